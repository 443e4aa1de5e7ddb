// SPDX-License-Identifier: GPL-2.0-only
#include "services.h"

/* Sources: DICOM PS3.8 and PS3.15, HL7 v2 MLLP, IANA service names, ../docs/policy.md. */
const struct ww_builtin_service ww_builtin_services[] = {
	{"any", "All traffic: every protocol and port", "any"},
	{"bacnet", "BACnet/IP building automation", "udp/47808"},
	{"dhcp", "DHCP (server side)", "udp/67"},
	{"dicom", "DICOM upper layer (store, commit, worklist, MPPS)", "tcp/104 tcp/11112"},
	{"dicom-tls", "DICOM over TLS", "tcp/2762"},
	{"dns", "Domain Name System", "udp/53 tcp/53"},
	{"hl7-mllp", "HL7 v2 over MLLP", "tcp/2575"},
	{"http", "HTTP", "tcp/80"},
	{"https", "HTTPS: FHIR, DICOMweb, web viewers, device APIs", "tcp/443"},
	{"icmp", "All ICMP and ICMPv6", "icmp icmpv6"},
	{"kerberos", "Kerberos and Kerberos password change", "tcp/88 udp/88 tcp/464 udp/464"},
	{"ldap", "LDAP", "tcp/389 udp/389"},
	{"ldaps", "LDAP over TLS", "tcp/636"},
	{"modbus", "Modbus/TCP", "tcp/502"},
	{"ntp", "Network Time Protocol", "udp/123"},
	{"ping", "ICMP and ICMPv6 echo request", "icmp/8 icmpv6/128"},
	{"rdp", "Remote Desktop Protocol", "tcp/3389 udp/3389"},
	{"smb", "SMB file sharing", "tcp/445"},
	{"snmp", "SNMP polling", "udp/161"},
	{"snmp-trap", "SNMP traps", "udp/162"},
	{"ssh", "Secure Shell", "tcp/22"},
	{"syslog", "Syslog over UDP", "udp/514"},
	{"syslog-tls", "Syslog over TLS (IHE ATNA)", "tcp/6514"},
};

const size_t ww_nbuiltin_services = sizeof(ww_builtin_services) / sizeof(ww_builtin_services[0]);

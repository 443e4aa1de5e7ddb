# bash completion for wardwall(8): commands, each command's options (from `wardwall help CMD`,
# so they never drift from what is parsed), and the flow ids and zone names of the installed
# policy (/etc/wardwall/policy.json, or $WARDWALL_POLICY) for --flow and --zone.

_wardwall_policy_names()
{
	local policy=${WARDWALL_POLICY:-/etc/wardwall/policy.json} what=$1
	[ -r "$policy" ] || return
	# The canonical form has one zone per line in "zones" and one flow per line in "flows".
	wardwall show --canonical "$policy" 2>/dev/null | awk -v what="$what" '
		/^  "zones": \{/ { inz = 1; next }
		/^  "flows": \[/ { inf = 1; next }
		/^  [}\]]/ { inz = 0; inf = 0 }
		inz && what == "zone" && match($0, /^    "[^"]+"/) { print substr($0, 6, RLENGTH - 6) }
		inf && what == "flow" && match($0, /"id": "[^"]+"/) { print substr($0, RSTART + 7, RLENGTH - 8) }'
}

_wardwall()
{
	local cur prev cmd i
	COMPREPLY=()
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD - 1]}
	if [ "$COMP_CWORD" -eq 1 ]; then
		COMPREPLY=($(compgen -W "$(wardwall help 2>/dev/null | awk '/^  [a-z]/ { print $1 }') help --version --help" -- "$cur"))
		return
	fi
	cmd=${COMP_WORDS[1]}
	case $prev in
	--zone) COMPREPLY=($(compgen -W "$(_wardwall_policy_names zone)" -- "$cur")); return ;;
	--flow) COMPREPLY=($(compgen -W "$(_wardwall_policy_names flow)" -- "$cur")); return ;;
	--state-dir | --bpffs | --key-dir | --out) COMPREPLY=($(compgen -d -- "$cur")); return ;;
	--key) COMPREPLY=($(compgen -f -- "$cur")); return ;;
	--tier) COMPREPLY=($(compgen -W "nftables xdp" -- "$cur")); return ;;
	--format) COMPREPLY=($(compgen -W "json oscal html json,oscal,html" -- "$cur")); return ;;
	esac
	if [ "$cmd" = help ]; then
		COMPREPLY=($(compgen -W "$(wardwall help 2>/dev/null | awk '/^  [a-z]/ { print $1 }')" -- "$cur"))
		return
	fi
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(wardwall help "$cmd" 2>/dev/null | grep -o -- '--[a-z-]*' | sort -u) --help" -- "$cur"))
		return
	fi
	[ "$cmd" = evidence ] && [ "$COMP_CWORD" -eq 2 ] && {
		COMPREPLY=($(compgen -W "export verify keygen" -- "$cur"))
		return
	}
	COMPREPLY=($(compgen -f -- "$cur"))
}
complete -F _wardwall wardwall

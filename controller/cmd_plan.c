// SPDX-License-Identifier: GPL-2.0-only
/* wardwall plan POLICY: placeholder until policy-term diffs land. */
#include "cli.h"
int cmd_plan(int argc, char **argv)
{
	return ww_usage("plan");
}

// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "agent.h"

#define CLI_JS "/usr/lib/node_modules/@anthropic-ai/claude-code/cli.js"

static void exe_named_claude(void **state)
{
	assert_true(agent_matches("/usr/local/bin/claude", NULL, false));
	assert_true(agent_matches("/opt/x/node_modules/@anthropic-ai/claude-code/bin/claude.exe",
				  NULL, false));
	assert_true(agent_matches("claude", NULL, false));
}

static void exe_in_versions_dir(void **state)
{
	assert_true(agent_matches("/root/.local/share/claude/versions/2.1.332", NULL, false));
	assert_true(agent_matches("/claude/versions/1.0.0", NULL, false));
}

/* The native installer replaces the running binary on update. */
static void exe_replaced_file(void **state)
{
	assert_true(agent_matches("/root/.local/share/claude/versions/2.1.3 (deleted)", NULL,
				  false));
	assert_true(agent_matches("/usr/local/bin/claude (deleted)", NULL, false));
}

static void exe_look_alikes(void **state)
{
	assert_false(agent_matches("/usr/bin/claude-helper", NULL, false));
	assert_false(agent_matches("/usr/bin/claudette", NULL, false));
	assert_false(agent_matches("/usr/bin/xclaude", NULL, false));
	assert_false(agent_matches("/usr/bin/claude.exe.bak", NULL, false));
	assert_false(agent_matches("/usr/bin/claude/", NULL, false));
	assert_false(agent_matches("/opt/claude/bin", NULL, false));
}

static void versions_dir_look_alikes(void **state)
{
	assert_false(agent_matches("/x/claude/versionsX/1", NULL, false));
	assert_false(agent_matches("/x/claudex/versions/1", NULL, false));
	assert_false(agent_matches("/x/xclaude/versions/1", NULL, false));
	assert_false(agent_matches("/x/claude/versions/1/bin/tool", NULL, false));
	assert_false(agent_matches("/x/claude/versions/", NULL, false));
	assert_false(agent_matches("/x/claude/other/versions/1", NULL, false));
	assert_false(agent_matches("/versions/1", NULL, false));
}

static void node_with_claude_script(void **state)
{
	assert_true(agent_matches("/usr/bin/node", "/usr/local/bin/claude", false));
	assert_true(agent_matches("/usr/bin/nodejs", "/x/node_modules/.bin/claude", false));
	assert_true(agent_matches("/usr/bin/node", "claude", false));
}

static void node_with_cli_js(void **state)
{
	assert_true(agent_matches("/usr/bin/node", CLI_JS, false));
	assert_true(agent_matches("/usr/bin/node", "@anthropic-ai/claude-code/cli.js", false));
}

static void node_argv1_look_alikes(void **state)
{
	assert_false(agent_matches("/usr/bin/node", "claudette", false));
	assert_false(agent_matches("/usr/bin/node", "/x/claude-helper", false));
	assert_false(agent_matches("/usr/bin/node", "/x/claude/", false));
	assert_false(agent_matches("/usr/bin/node", "/x/claude/server.js", false));
	assert_false(agent_matches("/usr/bin/node", "/x/claude-code/cli.js", false));
	assert_false(agent_matches("/usr/bin/node", CLI_JS "x", false));
	assert_false(agent_matches("/usr/bin/node", "/x/@anthropic-ai/claude-code/cli.jx", false));
	assert_false(agent_matches("/usr/bin/node", "/x/@anthropic-ai/claude-code/cli.mjs", false));
	assert_false(agent_matches("/usr/bin/node", "", false));
	assert_false(agent_matches("/usr/bin/node", NULL, false));
}

static void node_look_alike_exe(void **state)
{
	assert_false(agent_matches("/usr/bin/node-gyp", "/usr/local/bin/claude", false));
	assert_false(agent_matches("/usr/bin/nodex", CLI_JS, false));
	assert_false(agent_matches("/usr/bin/python3", "/usr/local/bin/claude", false));
}

static void script_interpreter(void **state)
{
	assert_true(agent_matches("/bin/sh", "/usr/local/bin/claude", true));
	assert_true(agent_matches("/usr/bin/bun", CLI_JS, true));
	assert_false(agent_matches("/bin/sh", "/usr/local/bin/claudette", true));
}

/* env runs node, which later appears with the script as argv[1]. */
static void env_launcher_not_agent(void **state)
{
	assert_false(agent_matches("/usr/bin/env", "node", false));
}

static void missing_exe(void **state)
{
	assert_false(agent_matches(NULL, NULL, false));
	assert_false(agent_matches(NULL, "/usr/local/bin/claude", false));
	assert_true(agent_matches(NULL, "/usr/local/bin/claude", true));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(exe_named_claude),
		cmocka_unit_test(exe_in_versions_dir),
		cmocka_unit_test(exe_replaced_file),
		cmocka_unit_test(exe_look_alikes),
		cmocka_unit_test(versions_dir_look_alikes),
		cmocka_unit_test(node_with_claude_script),
		cmocka_unit_test(node_with_cli_js),
		cmocka_unit_test(node_argv1_look_alikes),
		cmocka_unit_test(node_look_alike_exe),
		cmocka_unit_test(script_interpreter),
		cmocka_unit_test(env_launcher_not_agent),
		cmocka_unit_test(missing_exe),
	};

	return cmocka_run_group_tests_name("agent", tests, NULL, NULL);
}

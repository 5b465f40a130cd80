# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Generate the C project that the real-build workload compiles.

The project is plain generated C. A shared header declares every function.
Each of MODULES source files defines FUNCTIONS functions with loops,
switches and table look-ups, so that gcc -O2 has real work. main.c calls
one function of each module. The Makefile builds one object per source
file, so `make -j2` runs two compilers at a time as a real build does.
"""

import os

HEADER = "project.h"

MAKEFILE = """\
CC ?= gcc
CFLAGS ?= -O2 -g -Wall
SRCS := $(wildcard src/*.c)
OBJS := $(SRCS:src/%.c=obj/%.o)

all: app

obj:
\tmkdir -p $@

obj/%.o: src/%.c include/project.h | obj
\t$(CC) $(CFLAGS) -Iinclude -c $< -o $@

app: $(OBJS)
\t$(CC) $(CFLAGS) $^ -o $@

clean:
\trm -rf obj app
"""


def _function(module, index):
    """Return the C text of one generated function."""
    seed = module * 131 + index * 17 + 7
    return f"""\
int mod{module}_fn{index}(int x)
{{
	static const int table[16] = {{ {", ".join(str((seed * k) % 97) for k in range(16))} }};
	int acc = x ^ {seed};
	double weight = {seed % 13}.5;

	for (int i = 0; i < 64 + (x & 15); i++) {{
		switch ((acc + i) & 7) {{
		case 0: acc += table[i & 15] * {seed % 11 + 1}; break;
		case 1: acc ^= acc >> {index % 5 + 1}; break;
		case 2: acc -= (int)(weight * i); break;
		case 3: weight = weight * 0.5 + acc % 7; break;
		case 4: acc = acc * 33 + table[(acc >> 3) & 15]; break;
		default: acc += i * {module % 9 + 1};
		}}
	}}
	return acc + (int)weight + mod{module}_fn{index + 1}_ref();
}}
"""


def _source(module, functions):
    parts = [f'#include "{HEADER}"\n\n']
    for index in range(functions):
        parts.append(f"static int mod{module}_fn{index + 1}_ref(void)\n"
                     f"{{\n\treturn {index};\n}}\n\n")
    for index in range(functions):
        parts.append(_function(module, index))
        parts.append("\n")
    return "".join(parts)


def _header(modules, functions):
    lines = ["#ifndef PROJECT_H", "#define PROJECT_H", ""]
    for module in range(modules):
        for index in range(functions):
            lines.append(f"int mod{module}_fn{index}(int x);")
    lines += ["", "#endif", ""]
    return "\n".join(lines)


def _main(modules):
    calls = "".join(f"\tsum += mod{m}_fn0(argc + {m});\n" for m in range(modules))
    return ('#include <stdio.h>\n#include "project.h"\n\n'
            "int main(int argc, char **argv)\n{\n\tlong sum = 0;\n\n"
            f"{calls}\tprintf(\"%ld\\n\", sum);\n\treturn 0;\n}}\n")


def generate(root, modules, functions):
    """Write the project into root, which must not exist yet, and return root."""
    os.makedirs(os.path.join(root, "src"))
    os.makedirs(os.path.join(root, "include"))
    with open(os.path.join(root, "Makefile"), "w") as f:
        f.write(MAKEFILE)
    with open(os.path.join(root, "include", HEADER), "w") as f:
        f.write(_header(modules, functions))
    with open(os.path.join(root, "src", "main.c"), "w") as f:
        f.write(_main(modules))
    for module in range(modules):
        with open(os.path.join(root, "src", f"mod{module}.c"), "w") as f:
            f.write(_source(module, functions))
    return root

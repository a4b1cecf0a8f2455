/* weft-cli.h - the subcommands of the weft command, one file each (cmd-*.c).
 * SPDX-License-Identifier: MIT
 *
 * Each returns the process exit status: 0 success, 1 failure (a one-line
 * message on stderr naming the file and the problem), 2 usage error; `weft
 * record` returns the recorded program's status, `weft exec` becomes the
 * program.
 */
#ifndef WEFT_CLI_H
#define WEFT_CLI_H

int weft_cmd_record(int argc, char **argv);
int weft_cmd_exec(int argc, char **argv);
int weft_cmd_import(int argc, char **argv);
int weft_cmd_report(int argc, char **argv);
int weft_cmd_check(int argc, char **argv);
int weft_cmd_export(int argc, char **argv);
int weft_cmd_scale(int argc, char **argv);

#endif /* WEFT_CLI_H */

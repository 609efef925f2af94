/** The `capsule` command line: subcommands, flags, help. */
export * from "./run_cli.ts";
export * from "./cli_deps.ts";
export * from "./usage_error.ts";
export * from "./parse_flags.ts";

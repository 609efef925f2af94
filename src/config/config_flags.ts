/** Options that command-line flags set, above every other layer. Values are not yet validated. */
export interface ConfigFlags {
  /** `--listen`: `server.listen` */
  listen?: string | undefined;
  /** `--log-level`: `log.level` */
  logLevel?: string | undefined;
  /** `--log-format`: `log.format` */
  logFormat?: string | undefined;
  /** `--state-dir`: `server.stateDir` */
  stateDir?: string | undefined;
  /** `--host-key` (repeatable): `server.hostKeys` */
  hostKeys?: string[] | undefined;
}

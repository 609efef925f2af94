/**
 * The configuration's types, inferred from its zod schemas (each schema and
 * its type share a name, in the module that defines the schema).
 *
 * @module
 */
export type { Config, UnsafeConfig, UserConfig } from "./config_schema.ts";
export type {
  ContainerConfig,
  ContainerMode,
  ForwardingConfig,
  PoolConfig,
  PullPolicy,
  SftpConfig,
} from "./container_schema.ts";
export type { DockerConfig, EngineTlsConfig, RegistryConfig } from "./docker_schema.ts";
export type { LimitsConfig, UserLimitsConfig } from "./limits_schema.ts";
export type { MountConfig } from "./mount_schema.ts";
export type { PenaltyConfig, ServerConfig, UserSocketsConfig } from "./server_schema.ts";
export type { Ulimit, UlimitsConfig } from "./ulimits_schema.ts";
export type { AuthWebhookConfig, WebhookConfig } from "./webhook_schema.ts";

// Coded errors, each documented in docs/errors.md (checked by test/errors.test.ts).

export const codes = {
  BS_NATIVE_UNAVAILABLE: 'native addon could not be loaded',
  BS_NATIVE_DISABLED: 'native addon disabled by BINDSIGHT_NO_NATIVE',
  BS_SOCKDIAG_FAILED: 'netlink NETLINK_SOCK_DIAG dump failed',
  BS_PROCFS_UNREADABLE: '/proc/net socket tables could not be read',
  BS_NO_SOURCE: 'no discovery source works on this host',
  BS_CONFIG_INVALID: 'configuration is invalid',
  BS_ZONE_PARSE: 'zone file could not be parsed',
  BS_LISTEN_FAILED: 'could not listen on an address',
  BS_BPF_LOAD: 'eBPF programs could not be loaded or attached',
} as const;

export type ErrorCode = keyof typeof codes;

export class BindsightError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, detail?: string, options?: { cause?: unknown }) {
    super(detail ? `${codes[code]}: ${detail}` : codes[code], options);
    this.code = code;
    this.name = 'BindsightError';
  }
}

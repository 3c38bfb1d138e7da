// The JS API of build/Release/bindsight_bpf.node (native/src/bpf_addon.cc).
// Load it through src/native/bpf-binding.ts, which validates arguments.

export interface BpfSessionOptions {
  /** Hook names from HOOKS; each loads and attaches its programs. */
  hooks: string[];
  /** Mount point of the cgroup v2 hierarchy (cgroup hooks attach there). */
  cgroupPath: string;
  /** Ring buffer size: a power of two, at least one page. Set before load. */
  ringBufferBytes: number;
  /** Called on the JS thread with whole struct bs_event records, concatenated. */
  onEvents: (batch: Buffer) => void;
  /** libbpf's messages ('warn' | 'info' | 'debug'), for the pino logger. */
  onLog: (level: string, message: string) => void;
}

/** Error thrown by the constructor: code 'BS_BPF_LOAD', the failing hook and errno. */
export interface BpfLoadError extends Error {
  code: 'BS_BPF_LOAD';
  hook: string;
  errno: number;
}

export declare class BpfSession {
  /** Opens, loads and attaches (bpf_link for every program); throws BpfLoadError. */
  constructor(options: BpfSessionOptions);
  /** Hooks attached, in attach order. Empty after close(). */
  readonly hooks: string[];
  /** Events the BPF side could not write because the ring buffer was full. */
  drops(): number;
  /** Kernel ids of the loaded programs and of the links (for bpftool checks). */
  programIds(): number[];
  linkIds(): number[];
  /** Stops the reader thread, detaches every link, closes every fd. Idempotent. */
  close(): void;
}

/** sizeof(struct bs_event). */
export declare const EVENT_SIZE: number;
/** Every hook this build knows, with where it attaches. */
export declare const HOOKS: Array<{ name: string; section: string }>;

// Socket owner iterator (bpf/owners.bpf.c, native/src/bpf_owners.cc): one
// iter/task_file program per env, loaded and attached on first use, detached
// by ownersIterClose() or at env teardown. Load failures throw an Error with
// code 'BS_BPF_LOAD' and `errno`; read failures an Error whose code is the
// errno name.

/** Loads and attaches the iterator if not yet done. */
export declare function ownersIterOpen(): void;
/**
 * One run of the iterator in the socketOwnersPacked form (native/index.d.ts):
 * [inode, pid, inode, pid, ...] of every socket fd of every thread-group
 * leader, sorted by inode then pid, without repeats. Pids are those of the
 * caller's pid namespace. Opens the iterator first if needed.
 */
export declare function socketOwnersIter(): Uint32Array;
/**
 * One run of the iterator, raw: OWNER_RECORD_SIZE-byte struct bs_owner
 * records (bpf/owners.h), host byte order, one per socket fd: u64 cookie @0
 * (0 until the kernel made one), u32 inode @8, u32 pid @12, u32 fd @16,
 * u16 family @20, u16 protocol @22.
 */
export declare function socketOwnersIterRecords(): Buffer;
/** Detaches and unloads the iterator. Idempotent. */
export declare function ownersIterClose(): void;
/** Kernel ids of the iterator's program and link; 0 when not loaded. */
export declare function ownersIterIds(): { program: number; link: number };
/** sizeof(struct bs_owner). */
export declare const OWNER_RECORD_SIZE: number;

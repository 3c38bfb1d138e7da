// Which processes hold which socket, for the sockdiag source: from the BPF
// socket owner iterator (bpf/owners.bpf.c: one read for every fd of every
// process) when it loads here, else from the native /proc/*/fd walk (one
// readlinkat per fd, ~100 ms for 20k sockets). Chosen at run time; the
// iterator is loaded once and reused, and a failed load is not retried
// until release().
import { nativeDisabled, socketOwnerPairs } from '../native/binding.js';
import { closeOwnersIter, openOwnersIter, ownersIterPairs } from '../native/bpf-binding.js';

export type OwnerWalkMethod = 'bpf-iter' | 'proc-walk';

export interface OwnerPairs {
  /** [inode, pid, ...] sorted by inode then pid, without repeats. */
  pairs: Uint32Array;
  method: OwnerWalkMethod;
  /** Why the iterator was not used (method 'proc-walk' only). */
  reason?: string;
}

/** BINDSIGHT_NO_BPF_ITER=1 keeps the /proc walk (docs/configuration.md). */
export function ownerIterDisabled(): boolean {
  return process.env.BINDSIGHT_NO_BPF_ITER === '1';
}

let loadFailure: string | undefined;
let holders = 0;

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * One owner walk. Throws only when the /proc walk, the last resort, does
 * (BS_NATIVE_DISABLED, BS_NATIVE_UNAVAILABLE, BS_SOCKDIAG_FAILED).
 */
export function ownerPairs(): OwnerPairs {
  let reason: string;
  if (nativeDisabled()) {
    reason = 'BINDSIGHT_NO_NATIVE=1'; // and the /proc walk below throws, as before
  } else if (ownerIterDisabled()) {
    reason = 'BINDSIGHT_NO_BPF_ITER=1';
  } else if (loadFailure !== undefined) {
    reason = loadFailure;
  } else {
    try {
      openOwnersIter();
      try {
        return { pairs: ownersIterPairs(), method: 'bpf-iter' };
      } catch (e) {
        reason = `iterator read failed: ${message(e)}`; // this scan only
      }
    } catch (e) {
      // No CAP_BPF, a kernel without iter/task_file or BTF, no addon.
      loadFailure = message(e);
      reason = loadFailure;
    }
  }
  return { pairs: socketOwnerPairs(), method: 'proc-walk', reason };
}

/** A running source holds the iterator; it is detached when the last lets go. */
export function holdOwnerWalk(): void {
  holders++;
}

/** Detaches the iterator once no source holds it, and forgets a failed load. */
export function releaseOwnerWalk(): void {
  holders = Math.max(0, holders - 1);
  if (holders > 0) return;
  loadFailure = undefined;
  closeOwnersIter();
}

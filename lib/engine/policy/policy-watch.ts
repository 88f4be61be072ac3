import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';

/** How long a burst of file events (an editor's write, rename, chmod) is let settle. */
export const POLICY_WATCH_DEBOUNCE_MS = 150;

/**
 * Calls `onChange` once a burst of changes to `file` has settled. The
 * directory is watched rather than the file: editors and deploy tools often
 * replace a file by renaming a new one over it, which ends a watch on the
 * old inode. Never keeps the process alive.
 */
export class PolicyWatch {
  private readonly watcher: FSWatcher;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    file: string,
    private readonly onChange: () => void,
    private readonly debounceMs = POLICY_WATCH_DEBOUNCE_MS,
  ) {
    const path = resolve(file);
    const name = basename(path);
    this.watcher = watch(dirname(path), { persistent: false }, (_event, changed) => {
      // Some platforms do not say which file changed: then any change may be this one.
      if (changed === null || changed === undefined || String(changed) === name) this.schedule();
    });
    this.watcher.on('error', () => this.close());
  }

  close(): void {
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.watcher.close();
  }

  private schedule(): void {
    if (this.closed) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.closed) this.onChange();
    }, this.debounceMs);
    this.timer.unref();
  }
}

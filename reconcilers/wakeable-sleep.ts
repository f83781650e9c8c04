/**
 * A sleep that can be cut short. A wake-up that arrives while nobody sleeps is kept, so
 * the next sleep returns at once: a registry change announced between "compute the next
 * fire time" and "go to sleep" is never lost.
 */
export class WakeableSleep {
  private pending = false;
  private wakeNow?: () => void;

  /** Resolves after `ms`, or early on `wake()`; true when woken early. */
  sleep(ms: number): Promise<boolean> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(false), ms);
      const finish = (woken: boolean) => {
        clearTimeout(timer);
        this.wakeNow = undefined;
        resolve(woken);
      };
      this.wakeNow = () => finish(true);
    });
  }

  wake(): void {
    if (this.wakeNow) this.wakeNow();
    else this.pending = true;
  }
}

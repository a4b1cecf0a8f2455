/* fx-dlopen-plugin.c - the plugin fx-dlopen loads: its constructor registers
 * itself under the program's lock (see fx-dlopen.c).
 * SPDX-License-Identifier: MIT
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

extern pthread_mutex_t fx_dl_lock;
extern atomic_int fx_dl_in_ctor, fx_dl_registered;

__attribute__((constructor)) static void fx_dl_plugin_ctor(void) {
  atomic_store(&fx_dl_in_ctor, 1);
  while (pthread_mutex_trylock(&fx_dl_lock) != 0) sched_yield();
  atomic_store(&fx_dl_registered, 1);
  pthread_mutex_unlock(&fx_dl_lock);
}

/* weft-fold.c - collapsed processes: a process tree folded into one summary row.
 * SPDX-License-Identifier: MIT
 *
 * The tree walks over the session's processes (in tree order, with their
 * depth) and the sums of the folded threads' pixels; the timeline draws
 * them.
 */
#include "config.h"

#include "weft-fold.h"

#include <math.h>
#include <string.h>

guint weft_fold_subtree_end(WeftSession *session, guint p) {
  guint n = weft_session_get_n_processes(session), e = p + 1;
  const WeftSessionProcess *pr = weft_session_get_process(session, p);
  while (pr && e < n && weft_session_get_process(session, e)->depth > pr->depth) e++;
  return MIN(e, n);
}

guint weft_fold_first_thread(WeftSession *session, guint p) {
  const WeftSessionProcess *pr = weft_session_get_process(session, p);
  return pr ? pr->first_thread : weft_session_get_n_threads(session);
}

int weft_fold_parent(WeftSession *session, guint p) {
  const WeftSessionProcess *pr = weft_session_get_process(session, p);
  for (int q = (int)p - 1; pr && q >= 0; q--)
    if (weft_session_get_process(session, (guint)q)->depth < pr->depth) return q;
  return -1;
}

void weft_fold_clear(WeftFoldPixel *acc, int npx) {
  for (int p = 0; p < npx; p++) acc[p] = (WeftFoldPixel){.wait_state = WEFT_PIXEL_NONE};
}

void weft_fold_add(WeftFoldPixel *acc, const WeftPixel *px, int npx) {
  for (int p = 0; px && p < npx; p++) {
    if (px[p].state == WEFT_PIXEL_NONE) continue;
    WeftFoldPixel *a = &acc[p];
    float waiting = MAX(0.f, px[p].alive - px[p].running);
    a->alive += px[p].alive;
    a->oncpu += px[p].oncpu;
    a->runnable += px[p].runnable;
    a->offcpu += px[p].offcpu;
    a->waiting += waiting;
    guint8 ws = px[p].state == WEFT_ST_RUNNING ? px[p].mark : px[p].state;
    if (waiting > a->top_wait && ws != WEFT_PIXEL_NONE) {
      a->top_wait = waiting;
      a->wait_state = ws;
    }
  }
}

void weft_fold_heights(const WeftFoldPixel *px, int h, int out[4]) {
  double parts[4] = {px->oncpu, px->runnable, px->offcpu, px->waiting}, sum = 0;
  for (int k = 0; k < 4; k++) sum += parts[k];
  memset(out, 0, 4 * sizeof *out);
  if (sum <= 0) return;
  /* cumulative, rounded once, so that the parts add up to h */
  double acc = 0;
  int prev = 0;
  for (int k = 0; k < 4; k++) {
    acc += parts[k] / sum;
    int top = k == 3 ? h : (int)lround(acc * h);
    if (parts[k] / sum >= 0.05 && top == prev && prev < h) top = prev + 1;
    top = CLAMP(top, prev, h);
    out[k] = top - prev;
    prev = top;
  }
}

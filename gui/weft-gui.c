/* weft-gui.c - weft-gui: the timeline viewer, and its headless render path.
 * SPDX-License-Identifier: MIT
 *
 * weft-gui [run.db]                   the window
 * weft-gui --screenshot OUT.png [--size WxH] [--range A..B] run.db
 *                                     render the timeline into a PNG, exit
 * weft-gui --dump OUT.json [--select A..B] [--lock ID] [--finding N] [--search TEXT [--pick N]]
 *          [--frame N] [--zoom-frame N] [--actions ...] [--hover X,Y] run.db
 *                                     the state after those operations, as JSON
 * weft-gui --bench run.db             frame times of a scripted session
 * weft-gui --window --page all ...    every side page in turn, the peak RSS after each (--dump, --bench)
 * weft-gui --compare BEFORE.db run.db  also a Compare page: run.db against BEFORE.db
 *
 * The PNG and the dump are opened with weft_output_open (weft-output.h), the
 * way weft export opens its file: before the window is made, so that a
 * refused output (the recording itself, a directory, a dangling link) is told
 * at once; into a temporary file renamed when complete, or into a FIFO or a
 * device as a stream.
 */
#include "config.h"

#include <gtk/gtk.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "metrics.h"
#include "weft-json.h"
#include "weft-output.h"
#include "weft-session.h"
#include "weft-timeline.h"
#include "weft-window.h"

typedef struct {
  const char *db;
  const char *screenshot;
  const char *dump;
  gboolean window;
  gboolean bench;
  int width, height;
  gboolean have_range, have_select;
  int64_t range_start, range_end;
  int64_t select_start, select_end;
  int64_t lock;
  int finding;      /* rank, 1-based; 0 none */
  const char *page; /* side page to show last, NULL: as the other options leave it; "all": every one in turn */
  char **actions;
  gboolean have_click;
  double click_x, click_y; /* --click: in the timeline, after the actions */
  gboolean have_hover;
  double hover_x, hover_y; /* --hover: in the timeline, at the end */
  const char *search;      /* --search: typed in the search field */
  const char *what_if;     /* --what-if: a change replayed (the Sync objects page's what-if bar) */
  int pick;                /* --pick: the search result chosen, 1-based; 0 none */
  int segment;             /* --segment: the critical path's segment chosen, 1-based; 0 none */
  int frame;               /* --frame: the Waits page's box chosen, 1-based (preorder); 0 none */
  int zoom_frame;          /* --zoom-frame: the Waits page's box zoomed to, likewise */
  const char *compare;     /* --compare: the recording before a change (the Compare page) */
} Options;

static void usage(FILE *f) {
  fprintf(f, "usage: weft-gui [run.db]\n"
             "       weft-gui [--screenshot OUT.png] [--dump OUT.json] [options] run.db\n"
             "  --compare BEFORE.db   add a Compare page (Alt+9): run.db against BEFORE.db, a recording\n"
             "                        made before a change, as weft report --compare shows it\n"
             "  --screenshot OUT.png  render the timeline into a PNG and exit (needs a display: xvfb-run)\n"
             "  --window              render the window's content: the timeline and the side panel\n"
             "                        (not the header bar), W x H\n"
             "  --size WxH            size of the rendering (default 1200x600)\n"
             "  --range A..B          visible window, times since the start (\"1.5ms..3ms\"; default all)\n"
             "  --select A..B         select a time range, as a drag on the timeline does\n"
             "  --lock ID             select sync object ID (sync_object.object_id) in its table\n"
             "  --finding N           activate the N-th finding of the Findings page, as a click does\n"
             "  --search TEXT         search for TEXT as the search field (Ctrl+F) does: threads, processes,\n"
             "                        sync objects, functions and files of the call stacks\n"
             "  --pick N              then choose the N-th search result, as a click does\n"
             "  --segment N           draw the critical path and choose its N-th segment on its page\n"
             "  --what-if SPEC        replay the recording with a change, as weft report --what-if SPEC does,\n"
             "                        shown under the Sync objects table (lock:NAME, lock:NAME=-50%%, ...)\n"
             "  --frame N             show the Waits page (the waits' call stacks, of the selection) and\n"
             "                        choose its N-th box (1: the root, then depth first, the heaviest\n"
             "                        child first), as a click does\n"
             "  --zoom-frame N        show the Waits page zoomed to its N-th box, as a double click does\n"
             "  --page NAME           show side page NAME at the end: findings selection details threads\n"
             "                        locks critpath search waits compare; all: (with --window) each in\n"
             "                        turn until its data is read (critpath: the path computed, as P does),\n"
             "                        the peak RSS after each in the dump's \"pages\"\n"
             "  --actions A,B,...     then run timeline actions: zoom-in zoom-out pan-left pan-right fit\n"
             "                        zoom-selection clear-selection flows collapse-all row-up row-down\n"
             "                        page-up page-down side-panel critical-path replay-rows (a --what-if's\n"
             "                        replayed rows under the recorded ones); flows-KIND shows or\n"
             "                        hides a kind of\n"
             "                        flow (handoff wakeup barrier sem-post create join fork exec wait\n"
             "                        pipe), flows-all flows-object flows-thread: all flows, or only\n"
             "                        those of the highlighted object or thread\n"
             "  --click X,Y           then click the timeline at X,Y (pixels from its top left corner)\n"
             "  --hover X,Y           (with --dump) at the end, hover the timeline at X,Y until its tooltip's\n"
             "                        data is read: the tooltip and the GTK thread's reads in the dump's \"hover\"\n"
             "  --dump OUT.json       write the visible window, the selection panel's numbers and the\n"
             "                        details page as JSON ('-': standard output) and exit\n"
             "  --bench               time the first frame and scripted zooms and pans, print JSON (after\n"
             "                        --lock and --actions; then, with --window --page all, --select,\n"
             "                        --search and every page, with the session's peak RSS)\n");
}

static const char *const known_actions[] = {"zoom-in",
                                            "zoom-out",
                                            "pan-left",
                                            "pan-right",
                                            "fit",
                                            "zoom-selection",
                                            "clear-selection",
                                            "flows",
                                            "collapse-all",
                                            "row-up",
                                            "row-down",
                                            "page-up",
                                            "page-down",
                                            "side-panel",
                                            "flows-handoff",
                                            "flows-wakeup",
                                            "flows-barrier",
                                            "flows-sem-post",
                                            "flows-create",
                                            "flows-join",
                                            "flows-fork",
                                            "flows-exec",
                                            "flows-wait",
                                            "flows-pipe",
                                            "flows-mpi-message",
                                            "flows-mpi-collective",
                                            "flows-socket",
                                            "flows-all",
                                            "flows-object",
                                            "flows-thread",
                                            "critical-path",
                                            "replay-rows",
                                            NULL};

/* the side pages, in the order of their buttons and keys (Alt+1 ... Alt+9): --page, --page all */
static const char *const side_pages[] = {"findings", "selection", "details", "threads", "locks",
                                         "critpath", "search",    "waits",   "compare", NULL};

/* "X,Y" (pixels, not negative) of --click and --hover; FALSE (told) if val is not that. */
static gboolean parse_point(const char *opt, const char *val, double *x, double *y) {
  char *end;
  *x = g_ascii_strtod(val, &end);
  if (end == val || *end != ',' || (*y = g_ascii_strtod(end + 1, &end), *end) || *x < 0 || *y < 0) {
    fprintf(stderr, "weft-gui: %s %s: expected X,Y (pixels)\n", opt, val);
    return FALSE;
  }
  return TRUE;
}

static int parse_range(const char *opt, const char *val, int64_t *a, int64_t *b) {
  int bad = weft_parse_range(val, 0, a, b) != 0;
  if (bad) fprintf(stderr, "weft-gui: %s %s: expected A..B with A < B (\"1.5ms..3ms\")\n", opt, val);
  return bad ? -1 : 0;
}

/* Returns -1 on success, else the exit status. */
static int parse_args(int argc, char **argv, Options *o) {
  *o = (Options){.width = 1200, .height = 600, .lock = -1};
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *val = NULL;
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      usage(stdout);
      return 0;
    } else if (!strcmp(a, "--version")) {
      printf("weft-gui %s\n", WEFT_VERSION);
      return 0;
    } else if (!strcmp(a, "--window")) {
      o->window = TRUE;
    } else if (!strcmp(a, "--bench")) {
      o->bench = TRUE;
    } else if (!strcmp(a, "--screenshot") || !strcmp(a, "--size") || !strcmp(a, "--range") || !strcmp(a, "--select") ||
               !strcmp(a, "--lock") || !strcmp(a, "--actions") || !strcmp(a, "--dump") || !strcmp(a, "--finding") ||
               !strcmp(a, "--page") || !strcmp(a, "--click") || !strcmp(a, "--hover") || !strcmp(a, "--search") ||
               !strcmp(a, "--pick") || !strcmp(a, "--segment") || !strcmp(a, "--what-if") || !strcmp(a, "--frame") ||
               !strcmp(a, "--zoom-frame") || !strcmp(a, "--compare")) {
      if (i + 1 >= argc) {
        fprintf(stderr, "weft-gui: %s needs a value\n", a);
        return 2;
      }
      val = argv[++i];
      if (!strcmp(a, "--screenshot")) {
        o->screenshot = val;
      } else if (!strcmp(a, "--dump")) {
        o->dump = val;
      } else if (!strcmp(a, "--compare")) {
        o->compare = val;
      } else if (!strcmp(a, "--size")) {
        char x;
        if (sscanf(val, "%d%c%d", &o->width, &x, &o->height) != 3 || x != 'x' || o->width < 300 || o->height < 100 ||
            o->width > 16384 || o->height > 16384) {
          fprintf(stderr, "weft-gui: --size %s: expected WxH, at least 300x100\n", val);
          return 2;
        }
      } else if (!strcmp(a, "--range")) {
        if (parse_range(a, val, &o->range_start, &o->range_end) < 0) return 2;
        o->have_range = TRUE;
      } else if (!strcmp(a, "--select")) {
        if (parse_range(a, val, &o->select_start, &o->select_end) < 0) return 2;
        o->have_select = TRUE;
      } else if (!strcmp(a, "--lock")) {
        char *end;
        long long id = strtoll(val, &end, 10);
        if (!*val || *end || id < 0) {
          fprintf(stderr, "weft-gui: --lock %s: expected an object id\n", val);
          return 2;
        }
        o->lock = id;
      } else if (!strcmp(a, "--page")) {
        if (!g_strv_contains(side_pages, val) && strcmp(val, "all") != 0) {
          fprintf(stderr,
                  "weft-gui: --page %s: expected findings, selection, details, threads, locks, critpath, search, "
                  "waits, compare or all\n",
                  val);
          return 2;
        }
        o->page = val;
      } else if (!strcmp(a, "--click")) {
        if (!parse_point(a, val, &o->click_x, &o->click_y)) return 2;
        o->have_click = TRUE;
      } else if (!strcmp(a, "--hover")) {
        if (!parse_point(a, val, &o->hover_x, &o->hover_y)) return 2;
        o->have_hover = TRUE;
      } else if (!strcmp(a, "--search")) {
        o->search = val;
      } else if (!strcmp(a, "--what-if")) {
        o->what_if = val;
      } else if (!strcmp(a, "--pick") || !strcmp(a, "--segment") || !strcmp(a, "--frame") ||
                 !strcmp(a, "--zoom-frame")) {
        char *end;
        long n = strtol(val, &end, 10);
        if (!*val || *end || n < 1 || n > 100000000) {
          fprintf(stderr, "weft-gui: %s %s: expected a rank (1, 2, ...)\n", a, val);
          return 2;
        }
        *(!strcmp(a, "--pick")         ? &o->pick
          : !strcmp(a, "--frame")      ? &o->frame
          : !strcmp(a, "--zoom-frame") ? &o->zoom_frame
                                       : &o->segment) = (int)n;
      } else if (!strcmp(a, "--finding")) {
        char *end;
        long n = strtol(val, &end, 10);
        if (!*val || *end || n < 1 || n > 1000000) {
          fprintf(stderr, "weft-gui: --finding %s: expected a rank (1, 2, ...)\n", val);
          return 2;
        }
        o->finding = (int)n;
      } else {
        g_strfreev(o->actions);
        o->actions = g_strsplit(val, ",", -1);
        for (char **p = o->actions; *p; p++) {
          if (!g_strv_contains(known_actions, *p)) {
            fprintf(stderr, "weft-gui: --actions: unknown action '%s'\n", *p);
            return 2;
          }
        }
      }
    } else if (a[0] == '-' && a[1]) {
      fprintf(stderr, "weft-gui: unknown option %s\n", a);
      usage(stderr);
      return 2;
    } else if (o->db) {
      fprintf(stderr, "weft-gui: one recording at a time (%s and %s)\n", o->db, a);
      return 2;
    } else {
      o->db = a;
    }
  }
  gboolean headless = o->screenshot || o->dump || o->bench;
  if (headless && !o->db) {
    fprintf(stderr, "weft-gui: %s needs a recording\n",
            o->screenshot ? "--screenshot"
            : o->dump     ? "--dump"
                          : "--bench");
    return 2;
  }
  if (!headless && (o->window || o->have_select || o->lock >= 0 || o->finding || o->actions || o->page ||
                    o->have_click || o->search || o->pick || o->segment || o->what_if || o->frame || o->zoom_frame)) {
    fprintf(stderr, "weft-gui: --window, --select, --lock, --finding, --search, --pick, --segment, --what-if, "
                    "--frame, --zoom-frame, --page, --actions and --click go with --screenshot or --dump\n");
    return 2;
  }
  if (o->have_hover && !o->dump) {
    fprintf(stderr, "weft-gui: --hover goes with --dump (the tooltip is in it)\n");
    return 2;
  }
  if (o->page && !strcmp(o->page, "all") && !o->window) {
    fprintf(stderr, "weft-gui: --page all goes with --window (the side panel)\n");
    return 2;
  }
  if (o->page && !strcmp(o->page, "compare") && !o->compare) {
    fprintf(stderr, "weft-gui: --page compare goes with --compare\n");
    return 2;
  }
  if (o->pick && !o->search) {
    fprintf(stderr, "weft-gui: --pick goes with --search\n");
    return 2;
  }
  return -1;
}

/* ---- headless render ---- */

/* --page all: every side page in turn, each until its data is read */
typedef struct {
  int next;           /* the index in side_pages of the next page to show; -1: not touring */
  gint64 t_page;      /* when the current page was shown */
  guint reads0;       /* the GTK thread's reads before the tour, */
  guint page_reads0;  /* before the current page */
  double start_mb[2]; /* the peak RSS and the RSS before the first page */
  GString *visits;    /* one {"page", "shown", "ms", "peak_rss_mb", "rss_mb", "gtk_thread_reads"} per page read */
} Tour;

/* --hover: the tooltip asked for until its data is read */
typedef struct {
  guint asks;   /* times asked (1: it was there at once) */
  guint reads0; /* the GTK thread's reads before the first */
  guint reads;  /* ... from the first to the last */
  gboolean done;
  char *markup; /* the tooltip, or NULL (none there) */
} Hover;

typedef struct {
  const Options *o;
  WeftWindow *window;
  GtkWidget *target; /* what the PNG shows: the timeline, or the window */
  int frames;
  int last_w, last_h;
  int stage; /* 0 laying out, 1 waiting for the findings (--finding), 2 settling, 3 done */
  int status;
  gboolean done;
  gint64 t_start;       /* for --bench */
  WeftOutput png, dump; /* open (f != NULL) for --screenshot, --dump */
  guint timeout;        /* on_timeout's source */
  Tour tour;            /* --page all */
  Hover hover;          /* --hover */
  guint click_reads0;   /* --click: the GTK thread's reads before it */
} Shot;

/* Render w as its last frame showed it and write it as a PNG to out
 * (whose write errors its commit tells). 1 when written, 0 if it cannot
 * be, -1 if w has no frame now (a redraw was queued since: try again). */
static int render_png(GtkWidget *w, FILE *out) {
  int width = gtk_widget_get_width(w), height = gtk_widget_get_height(w);
  GdkPaintable *paintable = gtk_widget_paintable_new(w);
  GtkSnapshot *snapshot = gtk_snapshot_new();
  gdk_paintable_snapshot(paintable, snapshot, width, height);
  GskRenderNode *node = gtk_snapshot_free_to_node(snapshot);
  g_object_unref(paintable);
  if (!node) return -1;
  GskRenderer *renderer = gtk_native_get_renderer(gtk_widget_get_native(w));
  GdkTexture *texture =
      gsk_renderer_render_texture(renderer, node, &GRAPHENE_RECT_INIT(0, 0, (float)width, (float)height));
  gsk_render_node_unref(node);
  GBytes *png = texture ? gdk_texture_save_to_png_bytes(texture) : NULL;
  g_clear_object(&texture);
  if (!png) return 0;
  gsize n;
  const void *data = g_bytes_get_data(png, &n);
  fwrite(data, 1, n, out);
  g_bytes_unref(png);
  return 1;
}

/* "cpu": each thread's running time split as the rows draw it (on a CPU,
 * runnable, off a CPU; not measured: counted on a CPU). */
static void write_cpu_split(WeftSession *session, GString *out) {
  g_string_append(out, ",\n\"cpu\": [");
  for (guint i = 0; i < weft_session_get_n_threads(session); i++) {
    int64_t v[4];
    weft_session_cpu_totals(session, i, v);
    g_string_append_printf(out,
                           "%s{\"utid\": %" G_GINT64_FORMAT ", \"oncpu_ns\": %" G_GINT64_FORMAT
                           ", \"runnable_ns\": %" G_GINT64_FORMAT ", \"offcpu_ns\": %" G_GINT64_FORMAT
                           ", \"unmeasured_ns\": %" G_GINT64_FORMAT "}",
                           i ? ", " : "", weft_session_get_thread(session, i)->utid, v[0], v[1], v[2], v[3]);
  }
  g_string_append(out, "]");
}

/* "flow_kinds": per kind with flows in the window, how many and how many
 * are shown; the arrows, their bundle width and the caption drawn. */
static void write_flows(WeftTimeline *tl, GString *out) {
  const WeftFlowSet *set = weft_timeline_get_flow_set(tl);
  g_string_append(out, ",\n\"flow_kinds\": {");
  for (int k = 0, n = 0; set && k < WEFT_FLOW_COUNT; k++) {
    if (!set->total[k]) continue;
    g_string_append_printf(out, "%s\"%s\": {\"in_window\": %u, \"shown\": %u}", n++ ? ", " : "",
                           k ? weft_flow_name(k) : "unknown", set->total[k], set->shown[k]);
  }
  g_string_append_printf(out,
                         "},\n\"flow_arrows\": %u, \"flow_bundle_px\": %g, \"flow_caption\": ", set ? set->n_arrows : 0,
                         set ? set->bundle_px : 0);
  weft_json_append(out, weft_timeline_get_flow_caption(tl));
}

/* "critical_path_drawn": the bands drawn over the rows (thread, pixels from the window's left edge),
 * "critical_path_in_window": the path's segments in the window. */
static void write_critpath_bands(WeftTimeline *tl, GString *out) {
  guint n = 0;
  const GArray *bands = weft_timeline_get_critical_path_bands(tl, &n);
  WeftSession *ss = weft_timeline_get_session(tl);
  g_string_append_printf(out,
                         ",\n\"critical_path_shown\": %s, \"critical_path_in_window\": %u, \"critical_path_drawn\": [",
                         weft_timeline_get_show_critical_path(tl) ? "true" : "false", n);
  for (guint k = 0; bands && k < bands->len; k++) {
    const WeftCritBand *b = &g_array_index(bands, WeftCritBand, k);
    g_string_append_printf(out, "%s{\"utid\": %" G_GINT64_FORMAT ", \"x0\": %d, \"x1\": %d}", k ? ", " : "",
                           weft_session_get_thread(ss, (guint)b->thread)->utid, b->xa, b->xb);
  }
  g_string_append_c(out, ']');
}

/* kB on the line starting with key ("VmHWM:") of /proc/self/status; 0 if there is none */
static long proc_status_kb(const char *key) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long kb = 0;
  size_t n = strlen(key);
  while (f && fgets(line, sizeof line, f))
    if (!strncmp(line, key, n)) {
      kb = strtol(line + n, NULL, 10);
      break;
    }
  if (f) fclose(f);
  return kb;
}

static guint gtk_thread_reads(WeftWindow *w) {
  return weft_session_get_n_reads(weft_timeline_get_session(weft_window_get_timeline(w)));
}

/* --page all: "pages_start", "pages" (each page visited with the peak RSS (VmHWM) and the RSS once
 * its data was read) and the GTK thread's reads during the tour */
static void tour_write_json(const Tour *t, WeftWindow *w, GString *out) {
  if (!t->visits) {
    g_string_append(out, "\"pages\": null");
    return;
  }
  g_string_append_printf(out, "\"pages_start\": {\"peak_rss_mb\": %.1f, \"rss_mb\": %.1f}, ", t->start_mb[0],
                         t->start_mb[1]);
  g_string_append_printf(out, "\"pages\": [%s], \"pages_gtk_thread_reads\": %u", t->visits->str,
                         gtk_thread_reads(w) - t->reads0);
}

static void tour_start(Tour *t, WeftWindow *w) {
  t->next = 0;
  t->reads0 = gtk_thread_reads(w);
  t->visits = g_string_new(NULL);
  t->start_mb[0] = (double)proc_status_kb("VmHWM:") / 1024.0;
  t->start_mb[1] = (double)proc_status_kb("VmRSS:") / 1024.0;
}

/* --page all, once nothing is busy: note the page shown (its data is read)
 * and show the next one. FALSE when every page was visited (or no tour). */
static gboolean tour_step(Tour *t, WeftWindow *w, const Options *o) {
  if (t->next < 0) return FALSE;
  if (t->next > 0) {
    g_string_append_printf(t->visits, "%s{\"page\": ", t->next > 1 ? ", " : "");
    weft_json_append(t->visits, side_pages[t->next - 1]);
    g_string_append_printf(t->visits, ", \"shown\": ");
    weft_json_append(t->visits, weft_window_get_page(w));
    g_string_append_printf(
        t->visits, ", \"ms\": %.0f, \"peak_rss_mb\": %.1f, \"rss_mb\": %.1f, \"gtk_thread_reads\": %u}",
        (double)(g_get_monotonic_time() - t->t_page) / 1000.0, (double)proc_status_kb("VmHWM:") / 1024.0,
        (double)proc_status_kb("VmRSS:") / 1024.0, gtk_thread_reads(w) - t->page_reads0);
  }
  const char *next = side_pages[t->next];
  if (next && !strcmp(next, "compare") && !o->compare) next = NULL; /* (the last) */
  if (!next) {
    t->next = -1;
    return FALSE;
  }
  t->next++;
  t->t_page = g_get_monotonic_time();
  t->page_reads0 = gtk_thread_reads(w);
  /* the Critical path page has the path once it is computed: as the Path button (P) */
  if (!strcmp(next, "critpath")) weft_timeline_set_show_critical_path(weft_window_get_timeline(w), TRUE);
  weft_window_show_page(w, next);
  return TRUE;
}

/* --hover, once nothing is busy: ask the timeline for the tooltip at the
 * point, as a hover does. FALSE while its data is read (ask again once
 * nothing is busy). */
static gboolean hover_step(Hover *h, WeftWindow *w, const Options *o) {
  if (!o->have_hover || h->done) return TRUE;
  if (h->asks++ == 0) h->reads0 = gtk_thread_reads(w);
  gboolean loading;
  char *markup = weft_timeline_get_tooltip(weft_window_get_timeline(w), o->hover_x, o->hover_y, &loading);
  h->reads = gtk_thread_reads(w) - h->reads0;
  if (loading) return FALSE;
  h->markup = markup;
  h->done = TRUE;
  return TRUE;
}

/* "hover": {"x", "y", "tooltip" (markup, or null), "asks", "gtk_thread_reads"}, or null */
static void hover_write_json(const Hover *h, const Options *o, GString *out) {
  if (!o->have_hover) {
    g_string_append(out, "\"hover\": null");
    return;
  }
  g_string_append_printf(out, "\"hover\": {\"x\": %g, \"y\": %g, \"tooltip\": ", o->hover_x, o->hover_y);
  if (h->markup)
    weft_json_append(out, h->markup);
  else
    g_string_append(out, "null");
  g_string_append_printf(out, ", \"asks\": %u, \"gtk_thread_reads\": %u}", h->asks, h->reads);
}

static void write_dump(Shot *s) {
  WeftTimeline *tl = weft_window_get_timeline(s->window);
  int64_t a, b;
  int x0, npx;
  weft_timeline_get_range(tl, &a, &b);
  weft_timeline_get_plot(tl, &x0, &npx);
  GString *out = g_string_new(NULL);
  g_string_append_printf(out,
                         "{\"window\": {\"start_ns\": %" G_GINT64_FORMAT ", \"end_ns\": %" G_GINT64_FORMAT
                         ", \"x0\": %d, \"npx\": %d},\n",
                         a, b, x0, npx);
  const char *page = weft_window_get_page(s->window);
  g_string_append(out, "\"page\": ");
  weft_json_append(out, page);
  g_string_append(out, ",\n");
  hover_write_json(&s->hover, s->o, out);
  /* "click": {"x", "y", "gtk_thread_reads" (from the click to the dump)}, or null */
  if (s->o->have_click)
    g_string_append_printf(out, ",\n\"click\": {\"x\": %g, \"y\": %g, \"gtk_thread_reads\": %u}", s->o->click_x,
                           s->o->click_y, gtk_thread_reads(s->window) - s->click_reads0);
  else
    g_string_append(out, ",\n\"click\": null");
  g_string_append(out, ",\n");
  tour_write_json(&s->tour, s->window, out);
  if (s->tour.visits)
    g_string_append_printf(out, ",\n\"peak_rss_mb\": %.1f", (double)proc_status_kb("VmHWM:") / 1024.0);
  g_string_append(out, ",\n");
  g_string_append_printf(out,
                         "\"flows\": %u,\n\"highlight\": %" G_GINT64_FORMAT ",\n\"highlight_thread\": %" G_GINT64_FORMAT
                         ",\n\"details\": ",
                         weft_timeline_get_n_flows(tl), weft_timeline_get_highlight(tl),
                         weft_timeline_get_highlight_thread(tl));
  weft_window_write_details_json(s->window, out);
  /* every read the GTK thread made since the recording was opened (its tables, pages and frames read
   * on workers: none but where a test or --bench asks for one) */
  g_string_append_printf(out, ",\n\"gtk_thread_reads\": %u", gtk_thread_reads(s->window));
  g_string_append(out, ",\n\"highlight_label\": ");
  if (weft_timeline_get_highlight_label(tl))
    weft_json_append(out, weft_timeline_get_highlight_label(tl));
  else
    g_string_append(out, "null");
  g_string_append_printf(out, ", \"highlight_waits\": %u", weft_timeline_get_highlight_n_waits(tl));
  write_flows(tl, out);
  write_cpu_split(weft_timeline_get_session(tl), out);
  static const char *const marks[] = {"null", "\"serial\"", "\"runnable\""};
  g_string_append_printf(out, ",\n\"mark\": %s, \"marked_ns\": %" G_GINT64_FORMAT, marks[weft_timeline_get_mark(tl)],
                         weft_timeline_get_marked_ns(tl));
  g_string_append(out, ",\n\"lanes\": [");
  const char *label;
  for (guint i = 0; (label = weft_timeline_get_lane_label(tl, i)); i++) {
    g_string_append_printf(out, "%s{\"object_id\": %" G_GINT64_FORMAT ", \"label\": ", i ? ", " : "",
                           weft_session_get_lock(weft_timeline_get_session(tl), i)->object_id);
    weft_json_append(out, label);
    g_string_append_c(out, '}');
  }
  g_string_append_c(out, ']');
  g_string_append(out, ",\n\"rows\": ");
  weft_timeline_write_rows_json(tl, out);
  g_string_append(out, ",\n\"hosts\": ");
  weft_timeline_write_hosts_json(tl, out);
  g_string_append(out, ",\n\"layout\": ");
  weft_window_write_layout_json(s->window, out);
  g_string_append(out, ",\n\"panel\": ");
  weft_selection_panel_write_json(weft_window_get_selection_panel(s->window), out);
  g_string_append(out, ",\n\"findings\": ");
  weft_findings_panel_write_json(weft_window_get_findings_panel(s->window), out);
  g_string_append(out, ",\n\"critical_path\": ");
  weft_critpath_panel_write_json(weft_window_get_critpath_panel(s->window), out);
  write_critpath_bands(tl, out);
  g_string_append(out, ",\n\"search\": ");
  weft_search_panel_write_json(weft_window_get_search_panel(s->window), out);
  g_string_append(out, ",\n\"what_if\": ");
  weft_window_write_what_if_json(s->window, out);
  g_string_append(out, ",\n\"waits\": ");
  weft_waits_panel_write_json(weft_window_get_waits_panel(s->window), out);
  g_string_append(out, ",\n\"compare\": ");
  weft_window_write_compare_json(s->window, out);
  g_string_append(out, "}\n");
  fwrite(out->str, 1, out->len, s->dump.f); /* its write errors: finish_outputs */
  g_string_free(out, TRUE);
}

static gboolean on_timeout(gpointer data);

static void apply_operations(Shot *s) {
  const Options *o = s->o;
  WeftTimeline *tl = weft_window_get_timeline(s->window);
  if (o->have_range) weft_timeline_set_range(tl, o->range_start, o->range_end);
  if (o->have_select) weft_timeline_set_selection(tl, o->select_start, o->select_end);
  if (o->lock >= 0) weft_window_activate_object(s->window, o->lock);
  if (o->search) weft_window_search(s->window, o->search);
  if (o->segment) weft_timeline_set_show_critical_path(tl, TRUE);           /* computed: the window waits for it */
  if (o->frame || o->zoom_frame) weft_window_show_page(s->window, "waits"); /* read: the window waits for it */
  if (o->what_if) {
    weft_window_show_page(s->window, "locks");
    weft_window_what_if(s->window, o->what_if); /* replayed on a worker: the window waits for it */
  }
}

/* --finding (once the findings are computed), --pick (once the search is
 * done), then --actions, then --click.
 * FALSE: the finding or the search result does not exist. */
static gboolean apply_finding_and_actions(Shot *s) {
  const Options *o = s->o;
  WeftTimeline *tl = weft_window_get_timeline(s->window);
  gboolean found = TRUE;
  if (o->finding > 0) {
    weft_window_show_page(s->window, "findings");
    found = weft_findings_panel_activate(weft_window_get_findings_panel(s->window), (guint)o->finding - 1);
    if (!found)
      fprintf(stderr, "weft-gui: --finding %d: the Findings page has %u\n", o->finding,
              weft_findings_panel_get_n_items(weft_window_get_findings_panel(s->window)));
  }
  if (found && o->pick > 0) {
    WeftSearchPanel *sp = weft_window_get_search_panel(s->window);
    found = weft_search_panel_activate(sp, (guint)o->pick - 1);
    if (!found)
      fprintf(stderr, "weft-gui: --pick %d: the search for \"%s\" found %u\n", o->pick, o->search,
              weft_search_panel_get_n_results(sp));
  }
  if (found && o->segment > 0) {
    const WeftCritPath *cp = weft_timeline_get_critical_path(tl);
    found = weft_critpath_panel_activate(weft_window_get_critpath_panel(s->window), (guint)o->segment - 1);
    if (!found)
      fprintf(stderr, "weft-gui: --segment %d: the critical path has %u\n", o->segment, cp ? cp->n_segments : 0);
  }
  WeftWaitsPanel *wp = weft_window_get_waits_panel(s->window);
  const WeftWaitGraph *g = weft_waits_panel_get_graph(wp);
  if (found && o->zoom_frame > 0 && !(found = weft_waits_panel_zoom(wp, (guint)o->zoom_frame - 1)))
    fprintf(stderr, "weft-gui: --zoom-frame %d: the Waits page has %u boxes\n", o->zoom_frame, g ? g->n_nodes : 0);
  if (found && o->frame > 0 && !(found = weft_waits_panel_activate(wp, (guint)o->frame - 1)))
    fprintf(stderr, "weft-gui: --frame %d: the Waits page has %u boxes\n", o->frame, g ? g->n_nodes : 0);
  for (char **p = o->actions; p && *p; p++) {
    /* the timeline's actions, and the window's side-panel (F9) */
    char *name = g_strconcat(!strcmp(*p, "side-panel") ? "win." : "timeline.", *p, NULL);
    gtk_widget_activate_action(GTK_WIDGET(tl), name, NULL);
    g_free(name);
  }
  if (o->have_click) {
    s->click_reads0 = gtk_thread_reads(s->window);
    weft_timeline_click(tl, o->click_x, o->click_y);
  }
  if (o->page && !strcmp(o->page, "all")) {
    /* a page's read takes seconds on a big recording: no 60 s limit while touring */
    g_source_remove(s->timeout);
    s->timeout = g_timeout_add_seconds(1800, on_timeout, s);
    tour_start(&s->tour, s->window);
  } else if (o->page) {
    weft_window_show_page(s->window, o->page);
  }
  return found;
}

static gboolean panels_busy(WeftWindow *w) {
  return weft_window_is_busy(w) || weft_timeline_is_busy(weft_window_get_timeline(w)) ||
         weft_selection_panel_is_busy(weft_window_get_selection_panel(w)) ||
         weft_findings_panel_is_busy(weft_window_get_findings_panel(w));
}

static gboolean on_tick(GtkWidget *widget, GdkFrameClock *clock, gpointer data) {
  Shot *s = data;
  /* wait until what the PNG shows (the timeline, or the window's content)
   * is W x H and the same on two frames */
  int w = gtk_widget_get_width(s->target), h = gtk_widget_get_height(s->target);
  gboolean sized = w == s->o->width && h == s->o->height && w == s->last_w && h == s->last_h;
  s->last_w = w;
  s->last_h = h;
  if (!sized || ++s->frames < 2) return G_SOURCE_CONTINUE;
  if (s->stage == 0) {
    if (weft_window_is_busy(s->window)) return G_SOURCE_CONTINUE; /* --lock selects a row of the objects table */
    apply_operations(s);
    s->stage = 1;
    s->frames = 0;
    return G_SOURCE_CONTINUE;
  }
  /* the selection's numbers and the findings come from worker threads; then
   * the panels are laid out again (a widget waiting for its size renders nothing) */
  if (panels_busy(s->window)) {
    s->frames = 0;
    return G_SOURCE_CONTINUE;
  }
  if (s->stage == 1) {
    s->stage = 2;
    s->frames = 0;
    if (!apply_finding_and_actions(s)) {
      s->status = 1;
      s->done = TRUE;
      g_main_context_wakeup(NULL);
      return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
  }
  if (s->frames < 3 || gtk_widget_get_mapped(s->target) == FALSE) return G_SOURCE_CONTINUE;
  if (tour_step(&s->tour, s->window, s->o) || !hover_step(&s->hover, s->window, s->o)) {
    s->frames = 0;
    return G_SOURCE_CONTINUE;
  }
  s->status = 0;
  int drawn = s->png.f ? render_png(s->target, s->png.f) : 1;
  if (drawn < 0) { /* something arrived after the last frame (a fold): the next one */
    s->frames = 0;
    return G_SOURCE_CONTINUE;
  }
  if (!drawn) {
    fprintf(stderr, "weft-gui: %s: cannot render the PNG\n", s->o->screenshot);
    s->status = 1;
  }
  if (s->dump.f) write_dump(s);
  s->done = TRUE;
  g_main_context_wakeup(NULL);
  return G_SOURCE_REMOVE;
}

static gboolean on_timeout(gpointer data) {
  Shot *s = data;
  if (s->tour.next > 0)
    fprintf(stderr, "weft-gui: --page all: the %s page was not read within 30 min\n", side_pages[s->tour.next - 1]);
  else
    fprintf(stderr, "weft-gui: the window was not drawn within 60 s (no display?)\n");
  s->status = 1;
  s->done = TRUE;
  return G_SOURCE_REMOVE;
}

/* ---- --bench ---- */

typedef struct {
  gboolean painted;
  gint64 t_first;
} FirstFrame;

static void on_after_paint(GdkFrameClock *clock, FirstFrame *ff) {
  if (!ff->painted) ff->t_first = g_get_monotonic_time();
  ff->painted = TRUE;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* The calling thread's CPU time in ms. */
static double thread_cpu_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* One frame of the timeline as it is: the widget's snapshot and its
 * rasterisation by the window's renderer, appended to times (ms) and its
 * CPU time (the GTK thread's: what the load of the machine changes less)
 * to cpu. */
static void bench_draw(WeftTimeline *tl, GArray *times, GArray *cpu) {
  GtkWidget *w = GTK_WIDGET(tl);
  gint64 t0 = g_get_monotonic_time();
  double c0 = thread_cpu_ms();
  int width = gtk_widget_get_width(w), height = gtk_widget_get_height(w);
  /* the widget's own snapshot (a GtkWidgetPaintable would return its last
   * frame until the frame clock redraws it) */
  GtkSnapshot *snapshot = gtk_snapshot_new();
  GTK_WIDGET_GET_CLASS(w)->snapshot(w, snapshot);
  GskRenderNode *node = gtk_snapshot_free_to_node(snapshot);
  if (node) {
    GskRenderer *renderer = gtk_native_get_renderer(gtk_widget_get_native(w));
    GdkTexture *texture =
        gsk_renderer_render_texture(renderer, node, &GRAPHENE_RECT_INIT(0, 0, (float)width, (float)height));
    g_clear_object(&texture);
    gsk_render_node_unref(node);
  }
  double t = (double)(g_get_monotonic_time() - t0) / 1000.0, c = thread_cpu_ms() - c0;
  g_array_append_val(times, t);
  g_array_append_val(cpu, c);
}

/* Move the window to [a, b) and draw the frames the window would: the first
 * one at once (with the rows folded for earlier windows, stretched), then one
 * each time folds arrive, until every row of the window is there. Appends
 * the frame times to times (their CPU times to cpu) and the time until the
 * window was complete to complete (ms). */
static void bench_window(WeftTimeline *tl, double a, double b, GArray *times, GArray *cpu, GArray *complete) {
  gint64 t0 = g_get_monotonic_time();
  weft_timeline_set_range(tl, (int64_t)a, (int64_t)b);
  bench_draw(tl, times, cpu);
  while (weft_timeline_is_busy(tl)) {
    /* folds arrive: at most one frame per 16 ms, as the frame clock would draw */
    gint64 until = g_get_monotonic_time() + 16000;
    gboolean any = FALSE;
    while (weft_timeline_is_busy(tl) && g_get_monotonic_time() < until)
      any |= weft_timeline_wait(tl, (guint)MAX(1, (until - g_get_monotonic_time()) / 1000));
    if (!any && weft_timeline_is_busy(tl)) continue;
    bench_draw(tl, times, cpu);
  }
  double c = (double)(g_get_monotonic_time() - t0) / 1000.0;
  g_array_append_val(complete, c);
}

static gboolean on_wake(gpointer data) { return G_SOURCE_CONTINUE; }

/* --bench --page all, after the scripted frames: --select and --search, then
 * every side page in turn, each once nothing has been busy for 50 ms.
 * FALSE (told) if they were not read within 30 min. */
static gboolean bench_pages(const Options *o, WeftWindow *window, Tour *t) {
  WeftTimeline *tl = weft_window_get_timeline(window);
  if (o->have_select) weft_timeline_set_selection(tl, o->select_start, o->select_end);
  if (o->search) weft_window_search(window, o->search);
  guint wake = g_timeout_add(16, on_wake, NULL); /* look at least at a frame clock's pace */
  gint64 deadline = g_get_monotonic_time() + 1800 * G_USEC_PER_SEC, calm = 0;
  while (g_get_monotonic_time() < deadline) {
    g_main_context_iteration(NULL, TRUE);
    gint64 now = g_get_monotonic_time();
    if (panels_busy(window)) {
      calm = 0;
      continue;
    }
    if (!calm) calm = now;
    if (now - calm < 50000) continue;
    calm = 0;
    if (t->next < 0 && !t->visits) tour_start(t, window);
    if (!tour_step(t, window, o)) break;
  }
  g_source_remove(wake);
  if (t->next < 0 && t->visits) return TRUE;
  fprintf(stderr, "weft-gui: --bench --page all: the pages were not read within 30 min\n");
  return FALSE;
}

/* Time to first frame (from the start of the process's work to the first
 * paint of the window), then frames zooming from the whole recording down to
 * a 2 µs window by factors of 2 at three places, with pans of a tenth of the
 * window at each level, and back out (with --lock, that object highlighted).
 * Prints JSON, with the reads the GTK thread made during those frames. */
static int bench(const Options *o, WeftWindow *window, gint64 t_start) {
  FirstFrame ff = {0};
  gtk_window_present(GTK_WINDOW(window));
  GdkFrameClock *clock = NULL;
  gint64 deadline = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
  while (!ff.painted && g_get_monotonic_time() < deadline) {
    if (!clock && gtk_widget_get_realized(GTK_WIDGET(window))) {
      clock = gtk_widget_get_frame_clock(GTK_WIDGET(window));
      if (clock) g_signal_connect(clock, "after-paint", G_CALLBACK(on_after_paint), &ff);
    }
    g_main_context_iteration(NULL, !clock ? FALSE : TRUE);
  }
  if (clock) g_signal_handlers_disconnect_by_func(clock, on_after_paint, &ff);
  if (!ff.painted) {
    fprintf(stderr, "weft-gui: --bench: the window was not drawn within 60 s\n");
    return 1;
  }
  double first_ms = (double)(ff.t_first - t_start) / 1000.0;
  WeftTimeline *tl = weft_window_get_timeline(window);
  /* the first frame with every row in view folded (its later frames) */
  while (weft_timeline_is_busy(tl) && g_get_monotonic_time() < deadline) g_main_context_iteration(NULL, TRUE);
  double complete_ms = (double)(g_get_monotonic_time() - t_start) / 1000.0;
  WeftSession *session = weft_timeline_get_session(tl);
  double end = (double)MAX(weft_session_get_end_ns(session), 1);
  /* --lock: the object highlighted during the scripted frames (its waits and holds drawn),
   * once they are read (on a worker, which reports to the main loop) */
  double highlight_ms = 0;
  if (o->lock >= 0) {
    gint64 t_hl = g_get_monotonic_time();
    weft_timeline_set_highlight(tl, o->lock);
    while (!weft_timeline_highlight_is_ready(tl) && g_get_monotonic_time() < deadline)
      g_main_context_iteration(NULL, TRUE);
    highlight_ms = (double)(g_get_monotonic_time() - t_hl) / 1000.0;
  }
  /* --actions (flows, critical-path, say): run before the scripted frames, their reads done */
  for (char **a = o->actions; a && *a; a++) {
    char *name = g_strconcat(!strcmp(*a, "side-panel") ? "win." : "timeline.", *a, NULL);
    gtk_widget_activate_action(GTK_WIDGET(tl), name, NULL);
    g_free(name);
  }
  while (o->actions && (weft_timeline_is_busy(tl) || weft_window_is_busy(window)) &&
         g_get_monotonic_time() < deadline) {
    weft_timeline_request(tl);
    g_main_context_iteration(NULL, TRUE);
  }
  guint reads0 = weft_session_get_n_reads(session);
  GArray *times = g_array_new(FALSE, FALSE, sizeof(double));
  GArray *complete = g_array_new(FALSE, FALSE, sizeof(double));
  GArray *cpu = g_array_new(FALSE, FALSE, sizeof(double));
  int levels = 0;
  static const double places[] = {0.5, 0.1, 0.9};
  for (guint k = 0; k < G_N_ELEMENTS(places); k++) {
    double c = end * places[k];
    for (double w = end; w >= 2000; w /= 2) {
      if (k == 0) levels++;
      bench_window(tl, c - w / 2, c + w / 2, times, cpu, complete);
      for (int p = 1; p <= 3; p++)
        bench_window(tl, c - w / 2 + p * w / 10, c + w / 2 + p * w / 10, times, cpu, complete);
    }
    for (double w = 4000; w <= end; w *= 2) bench_window(tl, c - w / 2, c + w / 2, times, cpu, complete);
  }
  g_array_sort(times, cmp_double);
  g_array_sort(cpu, cmp_double);
  g_array_sort(complete, cmp_double);
  guint n = times->len, nc = complete->len;
  double *v = (double *)(void *)times->data, *cv = (double *)(void *)complete->data, sum = 0;
  double *uv = (double *)(void *)cpu->data;
  for (guint i = 0; i < n; i++) sum += v[i];
  guint gtk_reads = weft_session_get_n_reads(session) - reads0;
  Tour tour = {.next = -1};
  GString *pages = g_string_new(NULL);
  int rc = 0;
  if (o->page && !strcmp(o->page, "all")) {
    if (bench_pages(o, window, &tour)) {
      g_string_append(pages, ", ");
      tour_write_json(&tour, window, pages);
    } else {
      rc = 1;
    }
    if (tour.visits) g_string_free(tour.visits, TRUE);
  }
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  printf("{\"first_frame_ms\": %.1f, \"first_complete_ms\": %.1f, \"windows\": %u, \"frames\": %u, "
         "\"zoom_levels\": %d, \"frame_ms\": {\"mean\": %.2f, \"p50\": %.2f, \"p95\": %.2f, \"max\": %.2f}, "
         "\"frame_cpu_ms\": {\"p50\": %.2f, \"p95\": %.2f, \"max\": %.2f}, "
         "\"complete_ms\": {\"p50\": %.2f, \"p95\": %.2f, \"max\": %.2f}, \"peak_rss_mb\": %.1f, "
         "\"highlight\": %" G_GINT64_FORMAT
         ", \"highlight_read_ms\": %.1f, \"gtk_thread_reads\": %u, \"renderer\": \"%s\", \"size\": [%d, %d]%s}\n",
         first_ms, complete_ms, nc, n, levels, n ? sum / n : 0, n ? v[n / 2] : 0, n ? v[(guint)(n * 0.95)] : 0,
         n ? v[n - 1] : 0, n ? uv[n / 2] : 0, n ? uv[(guint)(n * 0.95)] : 0, n ? uv[n - 1] : 0, nc ? cv[nc / 2] : 0,
         nc ? cv[(guint)(nc * 0.95)] : 0, nc ? cv[nc - 1] : 0, ru.ru_maxrss / 1024.0, (gint64)o->lock, highlight_ms,
         gtk_reads, G_OBJECT_TYPE_NAME(gtk_native_get_renderer(GTK_NATIVE(window))),
         gtk_widget_get_width(GTK_WIDGET(tl)), gtk_widget_get_height(GTK_WIDGET(tl)), pages->str);
  g_string_free(pages, TRUE);
  g_array_unref(times);
  g_array_unref(cpu);
  g_array_unref(complete);
  return rc;
}

/* Open the outputs of --screenshot and --dump; FALSE (told) if one is refused. */
static gboolean open_outputs(Shot *s) {
  const Options *o = s->o;
  const char *paths[] = {o->screenshot, o->dump};
  WeftOutput *outs[] = {&s->png, &s->dump};
  char err[1024];
  for (int i = 0; i < 2; i++)
    if (paths[i] && weft_output_open(outs[i], paths[i], o->db, err, sizeof err) != 0) {
      fprintf(stderr, "weft-gui: %s\n", err);
      if (i) weft_output_abort(&s->png);
      return FALSE;
    }
  return TRUE;
}

/* Put the outputs in place if rc is 0 (else give them up); the exit status. */
static int finish_outputs(Shot *s, int rc) {
  WeftOutput *outs[] = {&s->png, &s->dump};
  char err[1024];
  for (int i = 0; i < 2; i++) {
    if (!outs[i]->f) continue;
    if (rc)
      weft_output_abort(outs[i]);
    else if (weft_output_commit(outs[i], err, sizeof err) != 0) {
      fprintf(stderr, "weft-gui: %s\n", err);
      rc = 1;
    }
  }
  return rc;
}

/* --range and --select must overlap the recording (as weft report --range):
 * FALSE, told, when one does not. */
static gboolean ranges_overlap(const Options *o, WeftSession *session) {
  int64_t end = weft_session_get_end_ns(session);
  const struct {
    gboolean have;
    const char *opt;
    int64_t a, b;
  } r[] = {{o->have_range, "--range", o->range_start, o->range_end},
           {o->have_select, "--select", o->select_start, o->select_end}};
  for (guint i = 0; i < G_N_ELEMENTS(r); i++) {
    if (!r[i].have || (MAX(r[i].a, 0) < MIN(r[i].b, end))) continue;
    char a[32], b[32], e[32];
    fprintf(stderr, "weft-gui: %s: %s %s..%s does not overlap the recording (0 ns..%s)\n", o->db, r[i].opt,
            weft_format_ns(a, sizeof a, r[i].a), weft_format_ns(b, sizeof b, r[i].b), weft_format_ns(e, sizeof e, end));
    return FALSE;
  }
  return TRUE;
}

/* The window, rendered until on_tick is done (or --bench). */
static int headless_run(Shot *s) {
  const Options *o = s->o;
  /* software rendering: the same pixels on every machine, and no GL needed
   * under Xvfb (GSK_RENDERER set by the user still wins) */
  g_setenv("GSK_RENDERER", "cairo", FALSE);
  /* no accessibility bus for a picture (it warns where there is no session
   * bus, as under xvfb-run in CI) */
  g_setenv("GTK_A11Y", "none", FALSE);
  if (!gtk_init_check()) {
    fprintf(stderr, "weft-gui: cannot open a display (run under xvfb-run)\n");
    return 1;
  }
  s->window = weft_window_new(NULL);
  weft_window_set_quiet_errors(s->window, TRUE);
  /* the findings only when something shows them */
  weft_window_set_findings_enabled(s->window, o->window || o->dump);
  if (!o->window) weft_window_set_timeline_only(s->window, TRUE);
  /* no tooltips: Xvfb's pointer rests at the screen's centre, often over the
   * timeline, whose tooltip would read its span (on a worker) and show at a
   * moment nobody chose, in no output; --hover asks for one where it says */
  gtk_widget_set_has_tooltip(GTK_WIDGET(weft_window_get_timeline(s->window)), FALSE);
  gtk_window_set_default_size(GTK_WINDOW(s->window), o->width, o->height);
  weft_window_reset_layout(s->window);
  if (o->compare) weft_window_set_compare(s->window, o->compare);
  if (!weft_window_open(s->window, o->db)) {
    gtk_window_destroy(GTK_WINDOW(s->window));
    return 1;
  }
  if (!ranges_overlap(o, weft_timeline_get_session(weft_window_get_timeline(s->window)))) {
    gtk_window_destroy(GTK_WINDOW(s->window));
    return 1;
  }
  /* the window without its header bar (a paintable of the window itself does not render) */
  s->target = o->window ? gtk_window_get_child(GTK_WINDOW(s->window)) : GTK_WIDGET(weft_window_get_timeline(s->window));
  /* exactly W x H, even on a smaller screen (Xvfb's default is 1280x1024):
   * GTK keeps the window's size inside the screen, but allocates its child
   * at least the size it requests (the timeline alone would be shrunk to
   * the window by the paned) */
  gtk_widget_set_size_request(gtk_window_get_child(GTK_WINDOW(s->window)), o->width, o->height);
  int rc;
  if (o->bench) {
    rc = bench(o, s->window, s->t_start);
  } else {
    gtk_widget_add_tick_callback(GTK_WIDGET(s->window), on_tick, s, NULL);
    s->timeout = g_timeout_add_seconds(60, on_timeout, s);
    gtk_window_present(GTK_WINDOW(s->window));
    while (!s->done) g_main_context_iteration(NULL, TRUE);
    if (g_main_context_find_source_by_id(NULL, s->timeout)) g_source_remove(s->timeout);
    rc = s->status;
  }
  gtk_window_destroy(GTK_WINDOW(s->window));
  /* let the selection panel's worker finish before exiting */
  while (g_main_context_pending(NULL)) g_main_context_iteration(NULL, FALSE);
  return rc;
}

static int headless(const Options *o) {
  gint64 t_start = g_get_monotonic_time();
  /* check the file first: a bad file needs no display */
  const char *files[] = {o->db, o->compare};
  for (int i = 0; i < 2 && files[i]; i++) {
    char err[512] = "";
    sqlite3 *db = weft_db_open(files[i], 0, err, sizeof err);
    if (!db) {
      fprintf(stderr, "weft-gui: %s\n", err[0] ? err : "cannot open the recording");
      return 1;
    }
    sqlite3_close(db);
  }
  Shot s = {.o = o, .status = 1, .t_start = t_start, .tour.next = -1};
  if (!open_outputs(&s)) return 1;
  int rc = finish_outputs(&s, headless_run(&s));
  if (s.tour.visits) g_string_free(s.tour.visits, TRUE);
  g_free(s.hover.markup);
  return rc;
}

/* ---- the application ---- */

static void on_activate(GtkApplication *app, gpointer data) {
  const Options *o = data;
  WeftWindow *win = weft_window_new(app);
  if (o->compare) weft_window_set_compare(win, o->compare);
  gtk_window_present(GTK_WINDOW(win));
  if (o->db) weft_window_open(win, o->db);
}

int main(int argc, char **argv) {
  Options o;
  int rc = parse_args(argc, argv, &o);
  if (rc >= 0) return rc;
  if (o.screenshot || o.dump || o.bench) {
    rc = headless(&o);
    g_strfreev(o.actions);
    return rc;
  }

  GtkApplication *app = gtk_application_new("org.weft.Gui", G_APPLICATION_NON_UNIQUE);
  g_signal_connect(app, "activate", G_CALLBACK(on_activate), &o);
  /* the options are ours: GApplication sees the program name only */
  char *app_argv[] = {argv[0], NULL};
  rc = g_application_run(G_APPLICATION(app), 1, app_argv);
  g_object_unref(app);
  return rc;
}

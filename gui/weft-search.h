/* weft-search.h - the Search page: threads, processes, sync objects, functions and files by name.
 * SPDX-License-Identifier: MIT
 *
 * The header bar's search entry (Ctrl+F) sends its text here; the page
 * lists what matches it, each result saying what it is (a thread, a
 * process, a mutex, a function, a file), and a chosen result is handed to
 * the window ("result-activated"), which jumps to it and highlights it.
 */
#ifndef WEFT_SEARCH_H
#define WEFT_SEARCH_H

#include <gtk/gtk.h>

#include "weft-session.h"

G_BEGIN_DECLS

typedef enum { /* in the order results of equal match are listed */
               WEFT_FOUND_PROCESS,
               WEFT_FOUND_THREAD,
               WEFT_FOUND_OBJECT,
               WEFT_FOUND_FUNCTION, /* the symbol of a frame of some call stack (C or Python) */
               WEFT_FOUND_FILE,     /* the file of a frame of some call stack */
               WEFT_FOUND_COUNT
} WeftFoundKind;

/* One thing the search can find. */
typedef struct {
  WeftFoundKind kind;
  int64_t id;     /* utid, upid or object_id; -1 for a function or a file */
  char *name;     /* as shown: "worker [1234]", "prog", "counter_lock", a symbol, a file's base name */
  char *key;      /* a function's symbol, a file's path as the frames have it; else NULL */
  char *what;     /* what it is: "thread", "process", "mutex", "function", "file" */
  char *detail;   /* "of process 1234 prog", "in 3 call stacks · prog.c", ... */
  char *haystack; /* the text the search looks in, case-folded */
  int64_t stacks; /* a function's or file's: the call stacks it is in */
} WeftFound;

#define WEFT_TYPE_SEARCH_PANEL (weft_search_panel_get_type())
G_DECLARE_FINAL_TYPE(WeftSearchPanel, weft_search_panel, WEFT, SEARCH_PANEL, GtkBox)

GtkWidget *weft_search_panel_new(void);
/* The recording (not owned; NULL: none): the results are forgotten. */
void weft_search_panel_set_session(WeftSearchPanel *self, WeftSession *session);
/* Search for text (case-insensitive, anywhere in the name), on a worker:
 * the first search of a recording reads its objects' names and the
 * functions and files of its stacks once (a connection of its own), the
 * later ones look in them. "" clears the list. */
void weft_search_panel_set_query(WeftSearchPanel *self, const char *text);
/* The text searched for ("" when none). */
const char *weft_search_panel_get_query(WeftSearchPanel *self);
/* TRUE while a search runs. */
gboolean weft_search_panel_is_busy(WeftSearchPanel *self);
/* The shown results, best first: exact names, then names that start with
 * the text, then the others; processes, threads, objects, functions, files. */
guint weft_search_panel_get_n_results(WeftSearchPanel *self);
const WeftFound *weft_search_panel_get_result(WeftSearchPanel *self, guint i);
/* Choose result i as a click does ("result-activated" with i). FALSE if none. */
gboolean weft_search_panel_activate(WeftSearchPanel *self, guint i);
/* A line under the results: what the chosen one highlighted (NULL: none). */
void weft_search_panel_set_note(WeftSearchPanel *self, const char *text);
/* {"query": TEXT, "matched": N, "results": [{"kind", "id", "name", "detail"}], "note": TEXT|null}. */
void weft_search_panel_write_json(WeftSearchPanel *self, GString *out);

G_END_DECLS

#endif /* WEFT_SEARCH_H */

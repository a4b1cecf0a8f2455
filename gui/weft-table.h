/* weft-table.h - a sortable table of rows (GtkColumnView) for the side panels,
 * and the pieces the side pages share (their header, their metrics job).
 * SPDX-License-Identifier: MIT
 *
 * Every row has an id (a utid, an object_id) and, per column, the text shown
 * and a number the column sorts by (NAN for text columns, which sort by
 * their text). The numbers are kept as given, so that a test can read back
 * exactly what the table holds (weft_table_write_json).
 */
#ifndef WEFT_TABLE_H
#define WEFT_TABLE_H

#include <gtk/gtk.h>

#include "metrics.h"
#include <stdint.h>

G_BEGIN_DECLS

typedef struct {
  const char *title; /* column header */
  const char *key;   /* its name in weft_table_write_json */
  gboolean numeric;  /* right-aligned, sorted by the number (else by the text) */
  gboolean expand;
} WeftTableColumn;

/* A table with these columns (copied). Returns a widget (a scrolled window). */
GtkWidget *weft_table_new(const WeftTableColumn *columns, guint n_columns, const char *id_key);
void weft_table_clear(GtkWidget *table);
/* Append a row: cells[n_columns] texts, numbers[n_columns] (NAN for text
 * columns, and for unknown values of numeric ones: JSON null). */
void weft_table_append(GtkWidget *table, int64_t id, const char *const *cells, const double *numbers);
/* Sort by column col (descending or not). */
void weft_table_sort(GtkWidget *table, guint col, gboolean descending);
guint weft_table_get_n_rows(GtkWidget *table);
/* Called with the id of the row the user selects (or -1 when none). */
typedef void (*WeftTableSelectFunc)(GtkWidget *table, int64_t id, gpointer data);
void weft_table_set_select_func(GtkWidget *table, WeftTableSelectFunc func, gpointer data);
/* Select the row with this id (calls the select func). FALSE if absent. */
gboolean weft_table_select_id(GtkWidget *table, int64_t id);
/* Select no row (the select func gets -1). */
void weft_table_unselect(GtkWidget *table);
/* Append the rows, in the shown order, as a JSON array of objects:
 * {id_key: id, key: number-or-text, ...}. Integral numbers are written as
 * integers, strings with weft_json_append (weft-json.h). */
void weft_table_write_json(GtkWidget *table, GString *out);

/* The top of a side page: box made vertical with the pages' spacing and
 * margins, then a selectable title (wrapped when wrap) and a dimmed, wrapped
 * status line, appended and returned. */
void weft_panel_header(GtkBox *box, const char *title, gboolean wrap, GtkLabel **title_out, GtkLabel **status_out);

/* A list of rows that a click or Enter activates (one selected at a time,
 * boxed), in a scrolled window appended to box that takes its remaining
 * height; on_activated is connected to its "row-activated". */
GtkListBox *weft_panel_list(GtkBox *box, GCallback on_activated, gpointer data);

/* On a side page's worker thread: the metrics of the recording at path for
 * q (on one core: the other is the UI's), through a connection of its own;
 * NULL after returning the error on task. */
WeftMetrics *weft_panel_compute(GTask *task, const char *path, WeftMetricsQuery *q);

G_END_DECLS

#endif /* WEFT_TABLE_H */

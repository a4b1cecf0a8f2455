/* weft-table.c - a sortable table of rows (GtkColumnView) for the side panels.
 * SPDX-License-Identifier: MIT
 *
 * The model is a GListStore of WeftTableRow, sorted by the column view's
 * sorter (GtkSortListModel), in a GtkSingleSelection. The list is
 * virtualised by GtkColumnView: only the visible rows have widgets.
 */
#include "config.h"

#include "weft-table.h"

#include <math.h>

#include "weft-json.h"
#include "weft-session.h"

#define WEFT_TYPE_TABLE_ROW (weft_table_row_get_type())
G_DECLARE_FINAL_TYPE(WeftTableRow, weft_table_row, WEFT, TABLE_ROW, GObject)

struct _WeftTableRow {
  GObject parent_instance;
  int64_t id;
  guint n;
  char **cells;
  double *numbers;
};

G_DEFINE_FINAL_TYPE(WeftTableRow, weft_table_row, G_TYPE_OBJECT)

static void weft_table_row_finalize(GObject *object) {
  WeftTableRow *self = WEFT_TABLE_ROW(object);
  g_strfreev(self->cells);
  g_free(self->numbers);
  G_OBJECT_CLASS(weft_table_row_parent_class)->finalize(object);
}

static void weft_table_row_class_init(WeftTableRowClass *klass) {
  G_OBJECT_CLASS(klass)->finalize = weft_table_row_finalize;
}

static void weft_table_row_init(WeftTableRow *self) {}

typedef struct {
  GtkColumnView *view;
  GListStore *store;
  GtkSortListModel *sorted;
  GtkSingleSelection *selection;
  GPtrArray *columns; /* GtkColumnViewColumn, in order */
  guint n;
  WeftTableColumn *cols;
  char *id_key;
  WeftTableSelectFunc func;
  gpointer func_data;
} Table;

static void table_free(Table *t) {
  for (guint i = 0; i < t->n; i++) {
    g_free((char *)t->cols[i].title);
    g_free((char *)t->cols[i].key);
  }
  g_free(t->cols);
  g_free(t->id_key);
  g_ptr_array_unref(t->columns);
  g_object_unref(t->store);
  g_free(t);
}

static Table *get(GtkWidget *w) { return g_object_get_data(G_OBJECT(w), "weft-table"); }

static void on_setup(GtkSignalListItemFactory *f, GtkListItem *item, gpointer data) {
  gboolean numeric = GPOINTER_TO_INT(g_object_get_data(G_OBJECT(f), "numeric"));
  GtkWidget *label = gtk_label_new(NULL);
  gtk_label_set_xalign(GTK_LABEL(label), numeric ? 1.0f : 0.0f);
  gtk_label_set_ellipsize(GTK_LABEL(label), numeric ? PANGO_ELLIPSIZE_NONE : PANGO_ELLIPSIZE_END);
  if (numeric) gtk_widget_add_css_class(label, "numeric");
  gtk_list_item_set_child(item, label);
}

static void on_bind(GtkSignalListItemFactory *f, GtkListItem *item, gpointer data) {
  guint col = GPOINTER_TO_UINT(data);
  WeftTableRow *row = gtk_list_item_get_item(item);
  GtkWidget *label = gtk_list_item_get_child(item);
  const char *text = row && col < row->n ? row->cells[col] : "";
  gtk_label_set_text(GTK_LABEL(label), text);
  gtk_widget_set_tooltip_text(label, text);
}

static int compare(gconstpointer a, gconstpointer b, gpointer data) {
  guint col = GPOINTER_TO_UINT(data);
  const WeftTableRow *x = a, *y = b;
  double nx = col < x->n ? x->numbers[col] : NAN, ny = col < y->n ? y->numbers[col] : NAN;
  int r;
  if (!isnan(nx) && !isnan(ny))
    r = nx < ny ? -1 : nx > ny ? 1 : 0;
  else
    r = g_utf8_collate(col < x->n ? x->cells[col] : "", col < y->n ? y->cells[col] : "");
  if (r == 0) r = x->id < y->id ? -1 : x->id > y->id ? 1 : 0; /* stable: by id */
  return r < 0 ? GTK_ORDERING_SMALLER : r > 0 ? GTK_ORDERING_LARGER : GTK_ORDERING_EQUAL;
}

static void on_selected(GtkSingleSelection *sel, GParamSpec *pspec, GtkWidget *w) {
  Table *t = get(w);
  WeftTableRow *row = gtk_single_selection_get_selected_item(sel);
  if (t->func) t->func(w, row ? row->id : -1, t->func_data);
}

GtkWidget *weft_table_new(const WeftTableColumn *columns, guint n_columns, const char *id_key) {
  Table *t = g_new0(Table, 1);
  t->n = n_columns;
  t->cols = g_new0(WeftTableColumn, n_columns);
  t->id_key = g_strdup(id_key);
  t->columns = g_ptr_array_new();
  for (guint i = 0; i < n_columns; i++) {
    t->cols[i] = columns[i];
    t->cols[i].title = g_strdup(columns[i].title);
    t->cols[i].key = g_strdup(columns[i].key);
  }
  t->store = g_list_store_new(WEFT_TYPE_TABLE_ROW);
  t->view = GTK_COLUMN_VIEW(gtk_column_view_new(NULL));
  gtk_column_view_set_show_column_separators(t->view, FALSE);
  gtk_column_view_set_reorderable(t->view, FALSE);
  for (guint i = 0; i < n_columns; i++) {
    GtkListItemFactory *f = gtk_signal_list_item_factory_new();
    g_object_set_data(G_OBJECT(f), "numeric", GINT_TO_POINTER(columns[i].numeric));
    g_signal_connect(f, "setup", G_CALLBACK(on_setup), NULL);
    g_signal_connect(f, "bind", G_CALLBACK(on_bind), GUINT_TO_POINTER(i));
    GtkColumnViewColumn *c = gtk_column_view_column_new(columns[i].title, f);
    gtk_column_view_column_set_resizable(c, TRUE);
    gtk_column_view_column_set_expand(c, columns[i].expand);
    if (columns[i].expand) gtk_column_view_column_set_fixed_width(c, 170);
    GtkSorter *sorter = GTK_SORTER(gtk_custom_sorter_new(compare, GUINT_TO_POINTER(i), NULL));
    gtk_column_view_column_set_sorter(c, sorter);
    g_object_unref(sorter);
    gtk_column_view_append_column(t->view, c);
    g_ptr_array_add(t->columns, c);
    g_object_unref(c);
  }
  GtkSorter *view_sorter = gtk_column_view_get_sorter(t->view);
  t->sorted = gtk_sort_list_model_new(G_LIST_MODEL(g_object_ref(t->store)), g_object_ref(view_sorter));
  t->selection = gtk_single_selection_new(G_LIST_MODEL(t->sorted));
  gtk_single_selection_set_autoselect(t->selection, FALSE);
  gtk_single_selection_set_can_unselect(t->selection, TRUE);
  gtk_single_selection_set_selected(t->selection, GTK_INVALID_LIST_POSITION);
  gtk_column_view_set_model(t->view, GTK_SELECTION_MODEL(t->selection));
  g_object_unref(t->selection); /* the view holds it */

  GtkWidget *sw = gtk_scrolled_window_new();
  gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(sw), GTK_POLICY_AUTOMATIC, GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(sw), GTK_WIDGET(t->view));
  gtk_widget_set_vexpand(sw, TRUE);
  g_object_set_data_full(G_OBJECT(sw), "weft-table", t, (GDestroyNotify)table_free);
  g_signal_connect_object(t->selection, "notify::selected", G_CALLBACK(on_selected), sw, 0);
  return sw;
}

void weft_table_clear(GtkWidget *table) {
  Table *t = get(table);
  g_list_store_remove_all(t->store);
}

void weft_table_append(GtkWidget *table, int64_t id, const char *const *cells, const double *numbers) {
  Table *t = get(table);
  WeftTableRow *row = g_object_new(WEFT_TYPE_TABLE_ROW, NULL);
  row->id = id;
  row->n = t->n;
  row->cells = g_new0(char *, t->n + 1);
  row->numbers = g_new(double, t->n);
  for (guint i = 0; i < t->n; i++) {
    row->cells[i] = g_strdup(cells[i] ? cells[i] : "");
    row->numbers[i] = numbers ? numbers[i] : NAN;
  }
  g_list_store_append(t->store, row);
  g_object_unref(row);
}

void weft_table_sort(GtkWidget *table, guint col, gboolean descending) {
  Table *t = get(table);
  if (col < t->columns->len)
    gtk_column_view_sort_by_column(t->view, g_ptr_array_index(t->columns, col),
                                   descending ? GTK_SORT_DESCENDING : GTK_SORT_ASCENDING);
}

guint weft_table_get_n_rows(GtkWidget *table) { return g_list_model_get_n_items(G_LIST_MODEL(get(table)->store)); }

void weft_table_set_select_func(GtkWidget *table, WeftTableSelectFunc func, gpointer data) {
  Table *t = get(table);
  t->func = func;
  t->func_data = data;
}

void weft_table_unselect(GtkWidget *table) {
  gtk_single_selection_set_selected(get(table)->selection, GTK_INVALID_LIST_POSITION);
}

gboolean weft_table_select_id(GtkWidget *table, int64_t id) {
  Table *t = get(table);
  GListModel *m = G_LIST_MODEL(t->sorted);
  for (guint i = 0; i < g_list_model_get_n_items(m); i++) {
    WeftTableRow *row = g_list_model_get_item(m, i);
    gboolean hit = row->id == id;
    g_object_unref(row);
    if (!hit) continue;
    if (gtk_single_selection_get_selected(t->selection) == i)
      on_selected(t->selection, NULL, table);
    else
      gtk_single_selection_set_selected(t->selection, i);
    /* GTK 4.8 has no gtk_column_view_scroll_to(): its inner list view's action */
    for (GtkWidget *c = gtk_widget_get_first_child(GTK_WIDGET(t->view)); c; c = gtk_widget_get_next_sibling(c))
      if (GTK_IS_LIST_VIEW(c)) gtk_widget_activate_action(c, "list.scroll-to-item", "u", i);
    return TRUE;
  }
  return FALSE;
}

void weft_table_write_json(GtkWidget *table, GString *out) {
  Table *t = get(table);
  GListModel *m = G_LIST_MODEL(t->sorted);
  g_string_append_c(out, '[');
  for (guint i = 0; i < g_list_model_get_n_items(m); i++) {
    WeftTableRow *row = g_list_model_get_item(m, i);
    g_string_append_printf(out, "%s\n  {", i ? "," : "");
    weft_json_append(out, t->id_key);
    g_string_append_printf(out, ": %" G_GINT64_FORMAT, row->id);
    for (guint c = 0; c < t->n; c++) {
      g_string_append(out, ", ");
      weft_json_append(out, t->cols[c].key);
      g_string_append(out, ": ");
      double v = row->numbers[c];
      if (isnan(v) && t->cols[c].numeric)
        g_string_append(out, "null");
      else if (isnan(v))
        weft_json_append(out, row->cells[c]);
      else if (v == floor(v) && fabs(v) < 9e15)
        g_string_append_printf(out, "%.0f", v);
      else
        g_string_append_printf(out, "%.17g", v);
      if (!isnan(v)) { /* and as shown (with its ≈ or ≥ mark, if any) */
        g_string_append(out, ", ");
        g_autofree char *k = g_strconcat(t->cols[c].key, "_text", NULL);
        weft_json_append(out, k);
        g_string_append(out, ": ");
        weft_json_append(out, row->cells[c]);
      }
    }
    g_string_append_c(out, '}');
    g_object_unref(row);
  }
  g_string_append(out, "]");
}

void weft_panel_header(GtkBox *box, const char *title, gboolean wrap, GtkLabel **title_out, GtkLabel **status_out) {
  GtkWidget *w = GTK_WIDGET(box);
  gtk_orientable_set_orientation(GTK_ORIENTABLE(box), GTK_ORIENTATION_VERTICAL);
  gtk_box_set_spacing(box, 4);
  gtk_widget_set_margin_start(w, 8);
  gtk_widget_set_margin_end(w, 8);
  gtk_widget_set_margin_top(w, 6);
  gtk_widget_set_margin_bottom(w, 6);
  GtkLabel *t = GTK_LABEL(gtk_label_new(title));
  gtk_label_set_xalign(t, 0);
  gtk_label_set_wrap(t, wrap);
  gtk_label_set_selectable(t, TRUE);
  gtk_widget_add_css_class(GTK_WIDGET(t), "title-4");
  gtk_box_append(box, GTK_WIDGET(t));
  GtkLabel *st = GTK_LABEL(gtk_label_new(NULL));
  gtk_label_set_xalign(st, 0);
  gtk_label_set_wrap(st, TRUE);
  gtk_widget_add_css_class(GTK_WIDGET(st), "dim-label");
  gtk_box_append(box, GTK_WIDGET(st));
  *title_out = t;
  *status_out = st;
}

GtkListBox *weft_panel_list(GtkBox *box, GCallback on_activated, gpointer data) {
  GtkListBox *list = GTK_LIST_BOX(gtk_list_box_new());
  gtk_list_box_set_selection_mode(list, GTK_SELECTION_SINGLE);
  gtk_list_box_set_activate_on_single_click(list, TRUE);
  gtk_widget_add_css_class(GTK_WIDGET(list), "boxed-list");
  g_signal_connect(list, "row-activated", on_activated, data);
  GtkWidget *sw = gtk_scrolled_window_new();
  gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(sw), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(sw), GTK_WIDGET(list));
  gtk_widget_set_vexpand(sw, TRUE);
  gtk_box_append(box, sw);
  return list;
}

WeftMetrics *weft_panel_compute(GTask *task, const char *path, WeftMetricsQuery *q) {
  char err[512] = "";
  sqlite3 *db = weft_db_open(path, 0, err, sizeof err);
  WeftMetrics *m = NULL;
  if (db) {
    q->jobs = 1;
    m = weft_metrics_compute(db, q, err, sizeof err);
    sqlite3_close(db);
    weft_release_free_memory(); /* the computation's ~40 MB of a 10 M-event recording */
  }
  if (!m) g_task_return_new_error(task, G_FILE_ERROR, G_FILE_ERROR_FAILED, "%s", err);
  return m;
}

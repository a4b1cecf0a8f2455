/* weft-output.c - opening, committing and abandoning outputs (weft-output.h).
 * SPDX-License-Identifier: MIT
 */
#include "weft-output.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "weft-db.h"

static void set_err(char *err, size_t errlen, const char *name, const char *what) {
  if (err && errlen) snprintf(err, errlen, "%s: %s", name, what);
}

static int same_file(const struct stat *a, const struct stat *b) {
  return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* A weft recording: an SQLite file with weft's application id (header offset 68). */
static int is_weft_recording(const char *path) {
  unsigned char h[72];
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return 0;
  ssize_t n = pread(fd, h, sizeof h, 0);
  close(fd);
  if (n != (ssize_t)sizeof h || memcmp(h, "SQLite format 3", 16) != 0) return 0;
  return ((uint32_t)h[68] << 24 | (uint32_t)h[69] << 16 | (uint32_t)h[70] << 8 | h[71]) == WEFT_DB_APPLICATION_ID;
}

/* The stream's write: all of buf, or 0 with the first error kept. */
static ssize_t cookie_write(void *cookie, const char *buf, size_t n) {
  WeftOutput *o = cookie;
  size_t done = 0;
  while (done < n) {
    ssize_t w = write(o->fd, buf + done, n - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      if (!o->errnum) o->errnum = w < 0 ? errno : EIO;
      errno = o->errnum;
      return 0;
    }
    done += (size_t)w;
  }
  return (ssize_t)n;
}

static int cookie_close(void *cookie) {
  WeftOutput *o = cookie;
  int rc = 0;
  if (o->owns_fd && o->fd >= 0 && close(o->fd) != 0) {
    if (!o->errnum) o->errnum = errno;
    rc = -1;
  }
  o->fd = -1;
  return rc;
}

void weft_output_abort(WeftOutput *o) {
  if (o->f) fclose(o->f);
  if (o->owns_fd && o->fd >= 0) close(o->fd);
  if (o->tmp) unlink(o->tmp);
  free(o->name);
  free(o->target);
  free(o->tmp);
  memset(o, 0, sizeof *o);
  o->fd = -1;
}

/* A message naming the output, and everything given up. */
static int fail(WeftOutput *o, const char *path, const char *what, char *err, size_t errlen) {
  set_err(err, errlen, path, what);
  weft_output_abort(o);
  return -1;
}

/* The FILE over o->fd: a cookie stream, so that write errors are kept. */
static int open_stream(WeftOutput *o, char *err, size_t errlen) {
  static const cookie_io_functions_t io = {.write = cookie_write, .close = cookie_close};
  o->f = fopencookie(o, "w", io);
  if (!o->f) return fail(o, o->name, strerror(errno), err, errlen);
  return 0;
}

/* A temporary file next to target (mode 0600 from mkostemp), renamed over
 * it at commit; old: the file it replaces, whose mode and owner it takes. */
static int open_temp(WeftOutput *o, const char *target, const struct stat *old, char *err, size_t errlen) {
  if (!o->target && !(o->target = strdup(target))) return fail(o, o->name, strerror(ENOMEM), err, errlen);
  if (asprintf(&o->tmp, "%s.tmpXXXXXX", o->target) < 0) {
    o->tmp = NULL;
    return fail(o, o->name, strerror(ENOMEM), err, errlen);
  }
  o->fd = mkostemp(o->tmp, O_CLOEXEC);
  if (o->fd < 0) {
    int e = errno;
    free(o->tmp);
    o->tmp = NULL; /* nothing to remove */
    return fail(o, o->name, strerror(e), err, errlen);
  }
  o->owns_fd = 1;
  if (old) {
    /* the owner first (it clears set-id bits); only root can give a file away */
    if ((old->st_uid != geteuid() || old->st_gid != getegid()) && fchown(o->fd, old->st_uid, old->st_gid) != 0) {
      /* kept as ours: the mode below still applies */
    }
    if (fchmod(o->fd, old->st_mode & 0777) != 0) return fail(o, o->name, strerror(errno), err, errlen);
  }
  return open_stream(o, err, errlen);
}

int weft_output_open(WeftOutput *o, const char *path, const char *input, char *err, size_t errlen) {
  memset(o, 0, sizeof *o);
  o->fd = -1;
  if (!*path) return fail(o, "-o \"\"", "empty file name", err, errlen);
  int to_stdout = !strcmp(path, "-");
  if (!(o->name = strdup(to_stdout ? "standard output" : path))) return fail(o, path, strerror(ENOMEM), err, errlen);
  struct stat in, st;
  int have_in = input && stat(input, &in) == 0;

  if (to_stdout) { /* `weft export run.db >> run.db` must not append to the recording */
    if (fstat(STDOUT_FILENO, &st) != 0) return fail(o, o->name, strerror(errno), err, errlen);
    if (have_in && S_ISREG(st.st_mode) && same_file(&st, &in))
      return fail(o, o->name, "is the recording being read", err, errlen);
    fflush(stdout);
    o->fd = STDOUT_FILENO;
    return open_stream(o, err, errlen);
  }
  if (lstat(path, &st) != 0) {
    if (errno != ENOENT) return fail(o, path, strerror(errno), err, errlen);
    return open_temp(o, path, NULL, err, errlen);
  }
  if (S_ISLNK(st.st_mode)) { /* follow it, so that the link stays a link */
    if (!(o->target = realpath(path, NULL)))
      return fail(o, path, errno == ENOENT ? "a symbolic link to a file that does not exist" : strerror(errno), err,
                  errlen);
    if (stat(o->target, &st) != 0) return fail(o, path, strerror(errno), err, errlen);
  }
  const char *real = o->target ? o->target : path;
  if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)) {
    free(o->target);
    o->target = NULL;
    o->fd = open(real, O_WRONLY | O_CLOEXEC | O_NOCTTY); /* a FIFO: waits for its reader */
    if (o->fd < 0) return fail(o, path, strerror(errno), err, errlen);
    o->owns_fd = 1;
    if (fstat(o->fd, &st) != 0 || !(S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)))
      return fail(o, path, "was replaced while it was being opened", err, errlen);
    return open_stream(o, err, errlen);
  }
  if (S_ISDIR(st.st_mode)) return fail(o, path, "is a directory", err, errlen);
  if (!S_ISREG(st.st_mode))
    return fail(o, path, "not a regular file, a FIFO or a character device; weft does not write there", err, errlen);
  if (have_in && same_file(&st, &in))
    return fail(o, path, "is the recording being read; choose another output", err, errlen);
  if (is_weft_recording(real))
    return fail(o, path, "is a weft recording, which is not replaced (remove it first, or choose another output)", err,
                errlen);
  return open_temp(o, real, &st, err, errlen);
}

int weft_output_commit(WeftOutput *o, char *err, size_t errlen) {
  int e = 0;
  if (fflush(o->f) != 0 || ferror(o->f)) e = o->errnum ? o->errnum : EIO;
  if (fclose(o->f) != 0 && !e) e = o->errnum ? o->errnum : EIO;
  o->f = NULL;
  if (!e && o->tmp) {
    if (rename(o->tmp, o->target) != 0)
      e = errno;
    else {
      free(o->tmp);
      o->tmp = NULL; /* in place: nothing to remove */
    }
  }
  if (e) set_err(err, errlen, o->name, strerror(e));
  weft_output_abort(o);
  return e ? -1 : 0;
}

/*
 * lazy-fs: a FUSE file system that keeps only what was synced, as a disk does through a power
 * cut (the model of Jepsen's LazyFS, in our own small code).
 *
 * Mounted on MOUNT, it mirrors the folder BACKING. Names (create, mkdir, unlink, rename) go to
 * BACKING at once, as a journaling file system makes a synced file's name durable with it.
 * File contents do not: every write lands in this process's memory, page by page, where reads
 * see it (as they see the kernel's page cache); only fsync or fdatasync of the file writes its
 * pending pages and its size to BACKING and syncs them there. Killing this process (SIGKILL)
 * is the power cut: every byte not synced is gone, and BACKING holds what a disk would. A clean
 * unmount writes everything back, as a machine that stays on would.
 *
 * Usage: lazy-fs BACKING MOUNT [more FUSE options]
 * Runs in the foreground, single-threaded; prints "ready" on stdout once the kernel connected.
 * Build: gcc -O2 -o lazy-fs lazy-fs.c $(pkg-config --cflags --libs fuse3)
 */
#define FUSE_USE_VERSION 31
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define PAGE 4096

/* A file whose contents this process knows better than BACKING does, or that is open. */
struct node {
  struct node *next;
  char *path;    /* relative to BACKING; NULL once unlinked */
  int fd;        /* the file in BACKING, read-write */
  int opens;     /* open handles through the mount */
  off_t size;    /* the size readers see */
  off_t backed;  /* a clean page's bytes below this are BACKING's, the rest zeros (lowered by truncation) */
  char **pages;  /* the pending pages by page number, NULL where clean */
  size_t npages; /* the length of `pages` */
  int pending;   /* something not synced yet */
};

static int root = -1; /* BACKING, opened */
static struct node *nodes;

/* A FUSE path ("/a/b") as a path relative to BACKING ("a/b", or "." for the root). */
static const char *rel(const char *path) { return path[1] ? path + 1 : "."; }

static struct node *find(const char *path) {
  for (struct node *n = nodes; n; n = n->next)
    if (n->path && strcmp(n->path, rel(path)) == 0) return n;
  return NULL;
}

/* The node of a path, made from BACKING's file if this process holds none; NULL with errno. */
static struct node *load(const char *path) {
  struct node *n = find(path);
  if (n) return n;
  int fd = openat(root, rel(path), O_RDWR | O_NOFOLLOW);
  if (fd < 0) return NULL;
  struct stat st;
  int error = fstat(fd, &st) < 0 ? errno : S_ISREG(st.st_mode) ? 0 : EISDIR;
  if (error) {
    close(fd);
    errno = error;
    return NULL;
  }
  n = calloc(1, sizeof *n);
  n->path = strdup(rel(path));
  n->fd = fd;
  n->size = n->backed = st.st_size;
  n->next = nodes;
  nodes = n;
  return n;
}

/* Forgets a node once nothing is open and nothing is pending (or it is unlinked and closed). */
static void forget_if_idle(struct node *n) {
  if (n->opens > 0 || (n->pending && n->path)) return;
  for (struct node **at = &nodes; *at; at = &(*at)->next)
    if (*at == n) {
      *at = n->next;
      break;
    }
  for (size_t i = 0; i < n->npages; i++) free(n->pages[i]);
  free(n->pages);
  free(n->path);
  close(n->fd);
  free(n);
}

/* Page `i` of the file as readers see it, made pending (a copy in memory) if it was clean. */
static char *pending_page(struct node *n, size_t i) {
  if (i >= n->npages) {
    size_t grown = n->npages ? n->npages : 16;
    while (grown <= i) grown *= 2;
    n->pages = realloc(n->pages, grown * sizeof *n->pages);
    memset(n->pages + n->npages, 0, (grown - n->npages) * sizeof *n->pages);
    n->npages = grown;
  }
  if (!n->pages[i]) {
    char *page = calloc(1, PAGE);
    off_t start = (off_t)i * PAGE;
    if (start < n->backed) {
      size_t want = n->backed - start < PAGE ? (size_t)(n->backed - start) : PAGE;
      if (pread(n->fd, page, want, start) < 0) {
        free(page);
        return NULL;
      }
    }
    n->pages[i] = page;
  }
  return n->pages[i];
}

static int node_read(struct node *n, char *buf, size_t len, off_t off) {
  if (off >= n->size) return 0;
  if ((off_t)len > n->size - off) len = n->size - off;
  size_t done = 0;
  while (done < len) {
    off_t at = off + done;
    size_t i = at / PAGE, in = at % PAGE;
    size_t chunk = PAGE - in < len - done ? PAGE - in : len - done;
    if (i < n->npages && n->pages[i]) {
      memcpy(buf + done, n->pages[i] + in, chunk);
    } else {
      memset(buf + done, 0, chunk);
      if (at < n->backed) {
        size_t from = n->backed - at < (off_t)chunk ? (size_t)(n->backed - at) : chunk;
        if (pread(n->fd, buf + done, from, at) < 0) return -errno;
      }
    }
    done += chunk;
  }
  return done;
}

static int node_write(struct node *n, const char *buf, size_t len, off_t off) {
  size_t done = 0;
  while (done < len) {
    off_t at = off + done;
    size_t in = at % PAGE;
    size_t chunk = PAGE - in < len - done ? PAGE - in : len - done;
    char *page = pending_page(n, at / PAGE);
    if (!page) return -errno;
    memcpy(page + in, buf + done, chunk);
    done += chunk;
  }
  if (off + (off_t)len > n->size) n->size = off + len;
  n->pending = 1;
  return len;
}

static int node_truncate(struct node *n, off_t size) {
  if (size < n->size) {
    size_t keep = (size + PAGE - 1) / PAGE;
    for (size_t i = keep; i < n->npages; i++) {
      free(n->pages[i]);
      n->pages[i] = NULL;
    }
    /* The tail of the last page reads as zeros if the file grows again. */
    if (size % PAGE) {
      char *page = pending_page(n, size / PAGE);
      if (!page) return -errno;
      memset(page + size % PAGE, 0, PAGE - size % PAGE);
    }
    if (size < n->backed) n->backed = size;
  }
  n->size = size;
  n->pending = 1;
  return 0;
}

/* fsync: the file's pending pages and size go to BACKING, and BACKING syncs them. */
static int node_sync(struct node *n) {
  if (!n->pending) return 0;
  if (ftruncate(n->fd, n->backed) < 0) return -errno;
  for (size_t i = 0; i < n->npages; i++) {
    if (!n->pages[i]) continue;
    off_t start = (off_t)i * PAGE;
    size_t len = n->size - start < PAGE ? (size_t)(n->size - start) : PAGE;
    if (pwrite(n->fd, n->pages[i], len, start) < 0) return -errno;
    free(n->pages[i]);
    n->pages[i] = NULL;
  }
  if (ftruncate(n->fd, n->size) < 0 || fsync(n->fd) < 0) return -errno;
  n->backed = n->size;
  n->pending = 0;
  return 0;
}

static struct node *of(struct fuse_file_info *fi) { return (struct node *)(uintptr_t)fi->fh; }

static void *lazy_init(struct fuse_conn_info *conn, struct fuse_config *cfg) {
  /* Every write reaches this process at once, and nothing changes BACKING behind the kernel's
     back: its page cache may stay, and need not be checked against times. */
  conn->want &= ~(FUSE_CAP_WRITEBACK_CACHE | FUSE_CAP_AUTO_INVAL_DATA);
  /* An unlinked file is unlinked in BACKING, not renamed to .fuse_hidden*, and its open
     handles go on without a path. */
  cfg->hard_remove = 1;
  cfg->nullpath_ok = 1;
  printf("ready\n");
  fflush(stdout);
  return NULL;
}

/* A clean unmount: the machine stays on, so everything is written back. */
static void lazy_destroy(void *data) {
  (void)data;
  for (struct node *n = nodes; n; n = n->next) node_sync(n);
}

static int lazy_getattr(const char *path, struct stat *st, struct fuse_file_info *fi) {
  struct node *n = fi ? of(fi) : NULL;
  if (n ? fstat(n->fd, st) : fstatat(root, rel(path), st, AT_SYMLINK_NOFOLLOW)) return -errno;
  if (!n && S_ISREG(st->st_mode)) n = find(path);
  if (n) {
    st->st_size = n->size;
    st->st_blocks = (n->size + 511) / 512;
  }
  return 0;
}

static int lazy_open(const char *path, struct fuse_file_info *fi) {
  struct node *n = load(path);
  if (!n) return -errno;
  if (fi->flags & O_TRUNC) node_truncate(n, 0);
  n->opens++;
  fi->fh = (uintptr_t)n;
  fi->keep_cache = 1;
  return 0;
}

static int lazy_create(const char *path, mode_t mode, struct fuse_file_info *fi) {
  /* The name is made in BACKING now; its contents stay pending like any other. */
  int fd = openat(root, rel(path), O_CREAT | O_RDWR | O_NOFOLLOW | (fi->flags & O_EXCL), mode);
  if (fd < 0) return -errno;
  close(fd);
  return lazy_open(path, fi);
}

static int lazy_read(const char *path, char *buf, size_t len, off_t off, struct fuse_file_info *fi) {
  (void)path;
  return node_read(of(fi), buf, len, off);
}

static int lazy_write(const char *path, const char *buf, size_t len, off_t off, struct fuse_file_info *fi) {
  (void)path;
  return node_write(of(fi), buf, len, off);
}

static int lazy_truncate(const char *path, off_t size, struct fuse_file_info *fi) {
  struct node *n = fi ? of(fi) : load(path);
  if (!n) return -errno;
  int result = node_truncate(n, size);
  forget_if_idle(n);
  return result;
}

static int lazy_fsync(const char *path, int datasync, struct fuse_file_info *fi) {
  (void)path;
  (void)datasync;
  return node_sync(of(fi));
}

/* A close is no sync. */
static int lazy_flush(const char *path, struct fuse_file_info *fi) {
  (void)path;
  (void)fi;
  return 0;
}

static int lazy_release(const char *path, struct fuse_file_info *fi) {
  (void)path;
  struct node *n = of(fi);
  n->opens--;
  forget_if_idle(n);
  return 0;
}

static int lazy_unlink(const char *path) {
  if (unlinkat(root, rel(path), 0) < 0) return -errno;
  struct node *n = find(path);
  if (n) {
    free(n->path);
    n->path = NULL;
    forget_if_idle(n);
  }
  return 0;
}

static int lazy_rename(const char *from, const char *to, unsigned int flags) {
  if (flags) return -EINVAL;
  if (renameat(root, rel(from), root, rel(to)) < 0) return -errno;
  struct node *replaced = find(to), *moved = find(from);
  if (replaced) {
    free(replaced->path);
    replaced->path = NULL;
    forget_if_idle(replaced);
  }
  if (moved) {
    free(moved->path);
    moved->path = strdup(rel(to));
  }
  return 0;
}

static int lazy_mkdir(const char *path, mode_t mode) { return mkdirat(root, rel(path), mode) < 0 ? -errno : 0; }

static int lazy_rmdir(const char *path) { return unlinkat(root, rel(path), AT_REMOVEDIR) < 0 ? -errno : 0; }

static int lazy_opendir(const char *path, struct fuse_file_info *fi) {
  int fd = openat(root, rel(path), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return -errno;
  fi->fh = fd;
  return 0;
}

static int lazy_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off, struct fuse_file_info *fi, enum fuse_readdir_flags flags) {
  (void)path;
  (void)off;
  (void)flags;
  /* All entries at once, from a fresh descriptor: its position is its own. */
  DIR *dir = fdopendir(openat(fi->fh, ".", O_RDONLY | O_DIRECTORY));
  if (!dir) return -errno;
  for (struct dirent *entry; (entry = readdir(dir));) fill(buf, entry->d_name, NULL, 0, 0);
  closedir(dir);
  return 0;
}

/* Names are durable at once already; syncing BACKING's folder costs little and says so. */
static int lazy_fsyncdir(const char *path, int datasync, struct fuse_file_info *fi) {
  (void)path;
  (void)datasync;
  return fsync(fi->fh) < 0 ? -errno : 0;
}

static int lazy_releasedir(const char *path, struct fuse_file_info *fi) {
  (void)path;
  close(fi->fh);
  return 0;
}

/* With a handle given, FUSE may give no path (nullpath_ok): these then act on the handle's file. */
static int lazy_chmod(const char *path, mode_t mode, struct fuse_file_info *fi) {
  return (fi ? fchmod(of(fi)->fd, mode) : fchmodat(root, rel(path), mode, 0)) < 0 ? -errno : 0;
}

static int lazy_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi) {
  return (fi ? fchown(of(fi)->fd, uid, gid) : fchownat(root, rel(path), uid, gid, AT_SYMLINK_NOFOLLOW)) < 0 ? -errno : 0;
}

static int lazy_utimens(const char *path, const struct timespec times[2], struct fuse_file_info *fi) {
  return (fi ? futimens(of(fi)->fd, times) : utimensat(root, rel(path), times, AT_SYMLINK_NOFOLLOW)) < 0 ? -errno : 0;
}

static int lazy_statfs(const char *path, struct statvfs *st) {
  (void)path;
  return fstatvfs(root, st) < 0 ? -errno : 0;
}

static const struct fuse_operations operations = {
  .init = lazy_init,
  .destroy = lazy_destroy,
  .getattr = lazy_getattr,
  .open = lazy_open,
  .create = lazy_create,
  .read = lazy_read,
  .write = lazy_write,
  .truncate = lazy_truncate,
  .fsync = lazy_fsync,
  .flush = lazy_flush,
  .release = lazy_release,
  .unlink = lazy_unlink,
  .rename = lazy_rename,
  .mkdir = lazy_mkdir,
  .rmdir = lazy_rmdir,
  .opendir = lazy_opendir,
  .readdir = lazy_readdir,
  .fsyncdir = lazy_fsyncdir,
  .releasedir = lazy_releasedir,
  .chmod = lazy_chmod,
  .chown = lazy_chown,
  .utimens = lazy_utimens,
  .statfs = lazy_statfs,
};

int main(int argc, char *argv[]) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s BACKING MOUNT [FUSE options]\n", argv[0]);
    return 2;
  }
  /* A test that dies takes its file system with it: a power cut, not a stray mount's server. */
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  root = open(argv[1], O_RDONLY | O_DIRECTORY);
  if (root < 0) {
    perror(argv[1]);
    return 1;
  }
  /* FUSE's own arguments: the mount point, in the foreground, one thread (no locks needed). */
  char **args = calloc(argc + 3, sizeof *args);
  int count = 0;
  args[count++] = argv[0];
  args[count++] = argv[2];
  args[count++] = "-f";
  args[count++] = "-s";
  for (int i = 3; i < argc; i++) args[count++] = argv[i];
  return fuse_main(count, args, &operations, NULL);
}

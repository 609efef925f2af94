/*
 * capsule-relay: the listening half of capsule's forwarding, run inside a
 * session container as the container's user (remote forwarding, `ssh -R`,
 * and agent forwarding, `ssh -A`).
 *
 * It listens on one TCP address or unix socket and multiplexes every
 * connection it accepts over its own stdin and stdout, which capsule reads
 * and writes through the engine's exec stream. Each frame is
 *
 *     type (1 byte) | id (4 bytes, big-endian) | length (4 bytes) | payload
 *
 * From the relay: 'L' listening (payload: the bound port, or the socket
 * path), 'O' a connection opened (payload: "address port" of its peer),
 * 'D' data, 'E' the peer sent EOF, 'C' the connection is gone, 'W' window
 * (payload: 4 bytes, how many bytes of capsule's data reached the socket),
 * 'X' a fatal error (payload: the message; the relay then exits 1).
 * To the relay: 'D' data, 'E' EOF (shut the socket's write side once its
 * data is out), 'C' close now, 'W' window (the relay may read that many
 * more bytes from the socket).
 *
 * Flow control: each direction of each connection has a window of WINDOW
 * bytes. The relay reads from a socket only as far as capsule granted, and
 * capsule sends only as far as the relay granted, so the relay always reads
 * its stdin at once (no connection stalls another) and holds at most WINDOW
 * bytes per connection. Ids are never reused. At EOF on stdin (capsule or
 * the connection went away) the relay closes everything, removes the socket
 * it created (and, in agent mode, its directory) and exits 0.
 *
 * Usage:
 *   capsule-relay tcp ADDRESS PORT   listen on a numeric IPv4/IPv6 address; port 0 picks one
 *   capsule-relay unix PATH          listen on a new unix socket (mode 0600)
 *   capsule-relay agent PATH         as unix, in a new directory (mode 0700) made for it
 *   capsule-relay wait PATH MS -- COMMAND [ARG...]
 *                                    wait up to MS milliseconds for a socket at
 *                                    PATH, then execute COMMAND (whether or not it came)
 *
 * Part of capsule; built statically with musl by scripts/build-tools.sh.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define WINDOW (256 * 1024)
#define MAX_CONNS 256
#define READ_CHUNK (64 * 1024)
#define HEADER 9

struct conn {
  int fd;
  uint32_t id;
  uint32_t credit;   /* bytes we may still read from the socket */
  char *out;         /* capsule's data not yet written to the socket */
  size_t out_off, out_len, out_cap;
  int read_eof;      /* the peer sent EOF (reported) */
  int write_eof;     /* capsule sent EOF: shut down once out is empty */
  int write_shut;
};

static struct conn conns[MAX_CONNS];
static int nconns;
static uint32_t next_id = 1;
static int listener = -1;
static char *unix_path;
static char *agent_dir;

static void put32(unsigned char *p, uint32_t v) {
  p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v;
}

static uint32_t get32(const unsigned char *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void cleanup(void) {
  if (unix_path) unlink(unix_path);
  if (agent_dir) rmdir(agent_dir);
}

static void write_all(int fd, const void *buf, size_t len) {
  const char *p = buf;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      struct pollfd w = { fd, POLLOUT, 0 };
      poll(&w, 1, -1);
      continue;
    }
    if (n <= 0) { /* capsule is gone */
      cleanup();
      _exit(0);
    }
    p += n;
    len -= (size_t)n;
  }
}

static void frame(char type, uint32_t id, const void *payload, uint32_t len) {
  unsigned char header[HEADER];
  header[0] = (unsigned char)type;
  put32(header + 1, id);
  put32(header + 5, len);
  if (len <= READ_CHUNK) {
    static unsigned char buf[HEADER + READ_CHUNK];
    memcpy(buf, header, HEADER);
    if (len) memcpy(buf + HEADER, payload, len);
    write_all(1, buf, HEADER + len);
  } else {
    write_all(1, header, HEADER);
    write_all(1, payload, len);
  }
}

static void window(char type, uint32_t id, uint32_t n) {
  unsigned char p[4];
  put32(p, n);
  frame(type, id, p, 4);
}

static void fatal(const char *what) {
  char msg[512];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(errno));
  frame('X', 0, msg, (uint32_t)strlen(msg));
  cleanup();
  exit(1);
}

static struct conn *find(uint32_t id) {
  for (int i = 0; i < nconns; i++)
    if (conns[i].id == id) return &conns[i];
  return NULL;
}

static void drop(struct conn *c, int tell) {
  if (tell) frame('C', c->id, NULL, 0);
  close(c->fd);
  free(c->out);
  *c = conns[--nconns];
}

static void set_nonblock(int fd) {
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static void listen_tcp(const char *address, const char *port_text) {
  struct sockaddr_storage ss;
  socklen_t len;
  char *end;
  long port = strtol(port_text, &end, 10);
  if (!*port_text || *end || port < 0 || port > 65535) {
    errno = EINVAL;
    fatal("port");
  }
  memset(&ss, 0, sizeof ss);
  struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
  struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
  if (inet_pton(AF_INET, address, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons((uint16_t)port);
    len = sizeof *v4;
  } else if (inet_pton(AF_INET6, address, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons((uint16_t)port);
    len = sizeof *v6;
  } else {
    errno = EINVAL;
    fatal("address");
  }
  listener = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listener < 0) fatal("socket");
  int one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (ss.ss_family == AF_INET6) setsockopt(listener, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (bind(listener, (struct sockaddr *)&ss, len) < 0) fatal("bind");
  if (listen(listener, 128) < 0) fatal("listen");
  len = sizeof ss;
  getsockname(listener, (struct sockaddr *)&ss, &len);
  char text[16];
  int n = snprintf(text, sizeof text, "%u",
                   ntohs(ss.ss_family == AF_INET ? v4->sin_port : v6->sin6_port));
  frame('L', 0, text, (uint32_t)n);
}

static void listen_unix(const char *path, int agent) {
  struct sockaddr_un sun;
  if (strlen(path) >= sizeof sun.sun_path) {
    errno = ENAMETOOLONG;
    fatal("socket path");
  }
  if (agent) {
    char *copy = strdup(path);
    char *dir = dirname(copy);
    if (mkdir(dir, 0700) < 0) fatal("agent directory");
    agent_dir = strdup(dir);
    free(copy);
  }
  listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listener < 0) fatal("socket");
  memset(&sun, 0, sizeof sun);
  sun.sun_family = AF_UNIX;
  strcpy(sun.sun_path, path);
  mode_t old = umask(0177);
  if (bind(listener, (struct sockaddr *)&sun, sizeof sun) < 0) fatal("bind");
  umask(old);
  unix_path = strdup(path);
  if (listen(listener, 128) < 0) fatal("listen");
  frame('L', 0, path, (uint32_t)strlen(path));
}

static void accept_one(void) {
  struct sockaddr_storage peer;
  socklen_t len = sizeof peer;
  int fd = accept4(listener, (struct sockaddr *)&peer, &len, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (fd < 0) return;
  if (nconns == MAX_CONNS) {
    close(fd);
    return;
  }
  char text[INET6_ADDRSTRLEN + 8] = "";
  char host[INET6_ADDRSTRLEN] = "";
  if (peer.ss_family == AF_INET) {
    struct sockaddr_in *v4 = (struct sockaddr_in *)&peer;
    inet_ntop(AF_INET, &v4->sin_addr, host, sizeof host);
    snprintf(text, sizeof text, "%s %u", host, ntohs(v4->sin_port));
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  } else if (peer.ss_family == AF_INET6) {
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&peer;
    inet_ntop(AF_INET6, &v6->sin6_addr, host, sizeof host);
    snprintf(text, sizeof text, "%s %u", host, ntohs(v6->sin6_port));
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  struct conn *c = &conns[nconns++];
  memset(c, 0, sizeof *c);
  c->fd = fd;
  c->id = next_id++;
  c->credit = WINDOW;
  frame('O', c->id, text, (uint32_t)strlen(text));
}

/* Reads what the socket has, within the window, and sends it on. */
static int pump_in(struct conn *c) {
  static char buf[READ_CHUNK];
  size_t want = c->credit < READ_CHUNK ? c->credit : READ_CHUNK;
  ssize_t n = read(c->fd, buf, want);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return 0;
  if (n < 0) return -1;
  if (n == 0) {
    c->read_eof = 1;
    frame('E', c->id, NULL, 0);
    return c->write_shut ? -1 : 0;
  }
  c->credit -= (uint32_t)n;
  frame('D', c->id, buf, (uint32_t)n);
  return 0;
}

/* Writes capsule's data to the socket and gives the window back. */
static int pump_out(struct conn *c) {
  ssize_t n = write(c->fd, c->out + c->out_off, c->out_len);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return 0;
  if (n < 0) return -1;
  c->out_off += (size_t)n;
  c->out_len -= (size_t)n;
  if (c->out_len == 0) c->out_off = 0;
  window('W', c->id, (uint32_t)n);
  return 0;
}

static int finish_write(struct conn *c) {
  if (c->write_eof && c->out_len == 0 && !c->write_shut) {
    shutdown(c->fd, SHUT_WR);
    c->write_shut = 1;
    if (c->read_eof) return -1;
  }
  return 0;
}

/* The frame parser for stdin: a header, then its payload streamed. */
static unsigned char header[HEADER];
static size_t header_have;
static uint32_t payload_left;
static unsigned char small[4];
static size_t small_have;

static void append(struct conn *c, const unsigned char *p, size_t n) {
  if (c->out_off + c->out_len + n > c->out_cap) {
    if (c->out_off) {
      memmove(c->out, c->out + c->out_off, c->out_len);
      c->out_off = 0;
    }
    if (c->out_len + n > c->out_cap) {
      size_t cap = c->out_cap ? c->out_cap : 16384;
      while (cap < c->out_len + n) cap *= 2;
      char *grown = realloc(c->out, cap);
      if (!grown) fatal("memory");
      c->out = grown;
      c->out_cap = cap;
    }
  }
  memcpy(c->out + c->out_off + c->out_len, p, n);
  c->out_len += n;
}

static void control(char type, uint32_t id) {
  struct conn *c = find(id);
  if (!c) return;
  if (type == 'C') {
    drop(c, 0);
  } else if (type == 'E') {
    c->write_eof = 1;
    if (finish_write(c) < 0) drop(c, 1);
  } else if (type == 'W') {
    uint32_t more = get32(small);
    c->credit = c->credit + more > WINDOW ? WINDOW : c->credit + more;
  }
}

static void parse(const unsigned char *p, size_t n) {
  while (n > 0) {
    if (header_have < HEADER) {
      size_t take = HEADER - header_have < n ? HEADER - header_have : n;
      memcpy(header + header_have, p, take);
      header_have += take;
      p += take;
      n -= take;
      if (header_have < HEADER) return;
      payload_left = get32(header + 5);
      small_have = 0;
      if (header[0] != 'D' && header[0] != 'W' && header[0] != 'E' && header[0] != 'C') {
        errno = EPROTO;
        fatal("frame");
      }
      /* A window is its 4-byte count, nothing else (never stale bytes of an earlier one). */
      if ((header[0] != 'D' && payload_left > sizeof small) ||
          (header[0] == 'W' && payload_left != sizeof small)) {
        errno = EPROTO;
        fatal("frame");
      }
    }
    uint32_t id = get32(header + 1);
    size_t take = payload_left < n ? payload_left : n;
    if (header[0] == 'D') {
      struct conn *c = find(id);
      if (c && take) {
        if (c->out_len + take > WINDOW) {
          errno = EPROTO;
          fatal("window exceeded");
        }
        append(c, p, take);
      }
    } else {
      memcpy(small + small_have, p, take);
      small_have += take;
    }
    p += take;
    n -= take;
    payload_left -= (uint32_t)take;
    if (payload_left == 0) {
      header_have = 0;
      if (header[0] != 'D') control((char)header[0], id);
    }
  }
}

static int wait_for_socket(const char *path, const char *ms_text, char **argv) {
  long ms = strtol(ms_text, NULL, 10);
  struct stat st;
  struct timespec tick = { 0, 10 * 1000 * 1000 };
  for (long waited = 0; waited < ms; waited += 10) {
    if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode)) break;
    nanosleep(&tick, NULL);
  }
  execvp(argv[0], argv);
  fprintf(stderr, "capsule-relay: %s: %s\n", argv[0], strerror(errno));
  return errno == ENOENT ? 127 : 126;
}

static int usage(void) {
  fputs("usage: capsule-relay tcp ADDRESS PORT | unix PATH | agent PATH | "
        "wait PATH MS -- COMMAND [ARG...]\n", stderr);
  return 2;
}

int main(int argc, char **argv) {
  if (argc >= 6 && strcmp(argv[1], "wait") == 0 && strcmp(argv[4], "--") == 0)
    return wait_for_socket(argv[2], argv[3], argv + 5);
  signal(SIGPIPE, SIG_IGN);
  if (argc == 4 && strcmp(argv[1], "tcp") == 0) listen_tcp(argv[2], argv[3]);
  else if (argc == 3 && strcmp(argv[1], "unix") == 0) listen_unix(argv[2], 0);
  else if (argc == 3 && strcmp(argv[1], "agent") == 0) listen_unix(argv[2], 1);
  else return usage();
  set_nonblock(listener);

  static struct pollfd fds[MAX_CONNS + 2];
  static unsigned char in[READ_CHUNK];
  for (;;) {
    int nfds = 0;
    fds[nfds++] = (struct pollfd){ 0, POLLIN, 0 };
    fds[nfds++] = (struct pollfd){ listener, nconns < MAX_CONNS ? POLLIN : 0, 0 };
    for (int i = 0; i < nconns; i++) {
      short events = 0;
      if (!conns[i].read_eof && conns[i].credit > 0) events |= POLLIN;
      if (conns[i].out_len > 0) events |= POLLOUT;
      /* Nothing wanted: left out, as poll reports POLLHUP whatever the events, and a
         unix socket whose peer has gone would report it at once, for ever (a busy loop). */
      fds[nfds++] = (struct pollfd){ events ? conns[i].fd : -1, events, 0 };
    }
    if (poll(fds, (nfds_t)nfds, -1) < 0) {
      if (errno == EINTR) continue;
      fatal("poll");
    }
    /* Connections first: their slots in fds match conns[] until one is dropped. */
    for (int i = nconns - 1; i >= 0; i--) {
      struct conn *c = &conns[i];
      short re = fds[2 + i].revents;
      if (!re) continue;
      int failed = 0;
      if ((re & POLLOUT) && c->out_len > 0) failed = pump_out(c) < 0 || finish_write(c) < 0;
      if (!failed && (re & (POLLIN | POLLHUP | POLLERR)) && !c->read_eof && c->credit > 0)
        failed = pump_in(c) < 0;
      if (!failed && (re & POLLERR)) failed = 1;
      if (failed) drop(c, 1);
    }
    if (fds[1].revents & POLLIN) accept_one();
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = read(0, in, sizeof in);
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n <= 0) break;
      parse(in, (size_t)n);
    }
  }
  while (nconns > 0) drop(&conns[0], 0);
  cleanup();
  return 0;
}

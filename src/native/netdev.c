/* linux.netDevices: move host network interfaces into the container's
 * network namespace (config-linux.md "Network Devices"): rename them, keep
 * their permanent global addresses and set them up. Done by stage 0 on the
 * host right after clone, before the init is told to go on, with raw
 * rtnetlink. Included by runt-init.c. */

#include <net/if.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/if_addr.h>

#define NETDEV_MAX 32
#define ADDR_MAX 64

struct saved_addr {
  unsigned char family, prefixlen;
  uint32_t flags;
  unsigned char local[16], address[16], broadcast[16];
  int local_len, address_len, broadcast_len;
};

struct netdev {
  const char *host, *name;
  int op_index;
  unsigned ifindex;
  struct saved_addr addrs[ADDR_MAX];
  int naddrs;
};

static struct netdev netdevs[NETDEV_MAX];
static int n_netdevs;
/* opened before any namespace is joined: a netlink socket talks to the
 * namespace it was made in, and the devices live in ours (the config may
 * join a network namespace by path) */
static int nl_host = -1;

struct nlreq {
  struct nlmsghdr h;
  char body[1024];
};

static void nl_attr(struct nlreq *r, unsigned short type, const void *data, size_t len)
{
  struct rtattr *a = (struct rtattr *) ((char *) &r->h + NLMSG_ALIGN(r->h.nlmsg_len));
  size_t need = RTA_SPACE(len);
  if (NLMSG_ALIGN(r->h.nlmsg_len) + need > sizeof *r)
    fail(NULL, E2BIG, NULL, "internal: netlink request too large");
  a->rta_type = type;
  a->rta_len = (unsigned short) RTA_LENGTH(len);
  memcpy(RTA_DATA(a), data, len);
  r->h.nlmsg_len = (uint32_t) (NLMSG_ALIGN(r->h.nlmsg_len) + need);
}

static int nl_socket(void)
{
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0)
    fail("socket", errno, NULL, "open a netlink socket");
  return fd;
}

/* Send one request and wait for its ack; returns 0 or a positive errno. */
static int nl_call(int fd, struct nlreq *r)
{
  static uint32_t seq;
  r->h.nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
  r->h.nlmsg_seq = ++seq;
  if (send(fd, r, r->h.nlmsg_len, 0) < 0)
    return errno;
  char buf[8192];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return errno;
    for (struct nlmsghdr *h = (struct nlmsghdr *) buf; NLMSG_OK(h, (size_t) n); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_seq != r->h.nlmsg_seq || h->nlmsg_type != NLMSG_ERROR)
        continue;
      return -((struct nlmsgerr *) NLMSG_DATA(h))->error;
    }
  }
}

/* An RTM_NEWLINK request for link idx; attributes may follow. */
static struct ifinfomsg *newlink_request(struct nlreq *r, unsigned idx)
{
  memset(r, 0, sizeof *r);
  r->h.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
  r->h.nlmsg_type = RTM_NEWLINK;
  struct ifinfomsg *ifi = NLMSG_DATA(&r->h);
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = (int) idx;
  return ifi;
}

/* Set link idx up, in the namespace the socket was made in; 0 or an errno. */
static int nl_link_up(int fd, unsigned idx)
{
  struct nlreq r;
  struct ifinfomsg *ifi = newlink_request(&r, idx);
  ifi->ifi_flags = IFF_UP;
  ifi->ifi_change = IFF_UP;
  return nl_call(fd, &r);
}

/* lo is index 1 in every network namespace (LOOPBACK_IFINDEX). A new
 * namespace starts with it down; runc (the "loopback" network its specconv
 * adds) and crun set it up. loopback_is_up: the helper that made the
 * namespace ahead did it already (runt-init.c, prenet_start). */
static int loopback_is_up;

static void loopback_up(void)
{
  int fd = nl_socket();
  int err = nl_link_up(fd, 1);
  close(fd);
  if (err)
    fail("netlink", err, "lo", "set the loopback device up");
}

static void copy_attr(unsigned char *dst, int *len, const struct rtattr *a)
{
  size_t n = RTA_PAYLOAD(a);
  if (n > 16)
    n = 16;
  memcpy(dst, RTA_DATA(a), n);
  *len = (int) n;
}

/* Permanent addresses of global scope, the ones the spec says to keep; the
 * kernel drops all addresses when a device changes namespace. */
static void save_addresses(int fd, struct netdev *d)
{
  struct nlreq r;
  memset(&r, 0, sizeof r);
  r.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg));
  r.h.nlmsg_type = RTM_GETADDR;
  r.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  r.h.nlmsg_seq = 1;
  if (send(fd, &r, r.h.nlmsg_len, 0) < 0)
    fail("send", errno, d->host, "list the addresses of %s", d->host);
  char buf[16384];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      fail("recv", errno, d->host, "list the addresses of %s", d->host);
    for (struct nlmsghdr *h = (struct nlmsghdr *) buf; NLMSG_OK(h, (size_t) n); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_type == NLMSG_DONE)
        return;
      if (h->nlmsg_type == NLMSG_ERROR)
        fail("recv", -((struct nlmsgerr *) NLMSG_DATA(h))->error, d->host, "list the addresses of %s", d->host);
      if (h->nlmsg_type != RTM_NEWADDR)
        continue;
      struct ifaddrmsg *ifa = NLMSG_DATA(h);
      if (ifa->ifa_index != d->ifindex || ifa->ifa_scope != RT_SCOPE_UNIVERSE)
        continue;
      uint32_t flags = ifa->ifa_flags;
      struct saved_addr s;
      memset(&s, 0, sizeof s);
      int len = (int) IFA_PAYLOAD(h);
      for (struct rtattr *a = IFA_RTA(ifa); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
        if (a->rta_type == IFA_FLAGS)
          memcpy(&flags, RTA_DATA(a), 4);
        else if (a->rta_type == IFA_LOCAL)
          copy_attr(s.local, &s.local_len, a);
        else if (a->rta_type == IFA_ADDRESS)
          copy_attr(s.address, &s.address_len, a);
        else if (a->rta_type == IFA_BROADCAST)
          copy_attr(s.broadcast, &s.broadcast_len, a);
      }
      if (!(flags & IFA_F_PERMANENT) || d->naddrs >= ADDR_MAX)
        continue;
      s.family = ifa->ifa_family;
      s.prefixlen = ifa->ifa_prefixlen;
      /* the flags a user sets (nodad, noprefixroute, ...), not the state */
      s.flags = flags & (IFA_F_NODAD | IFA_F_HOMEADDRESS | IFA_F_NOPREFIXROUTE | IFA_F_MANAGETEMPADDR | IFA_F_MCAUTOJOIN);
      d->addrs[d->naddrs++] = s;
    }
  }
}

static void add_address(int fd, struct netdev *d, unsigned ifindex, const struct saved_addr *s)
{
  struct nlreq r;
  memset(&r, 0, sizeof r);
  r.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg));
  r.h.nlmsg_type = RTM_NEWADDR;
  r.h.nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
  struct ifaddrmsg *ifa = NLMSG_DATA(&r.h);
  ifa->ifa_family = s->family;
  ifa->ifa_prefixlen = s->prefixlen;
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  ifa->ifa_index = ifindex;
  if (s->local_len)
    nl_attr(&r, IFA_LOCAL, s->local, (size_t) s->local_len);
  if (s->address_len)
    nl_attr(&r, IFA_ADDRESS, s->address, (size_t) s->address_len);
  if (s->broadcast_len)
    nl_attr(&r, IFA_BROADCAST, s->broadcast, (size_t) s->broadcast_len);
  if (s->flags)
    nl_attr(&r, IFA_FLAGS, &s->flags, sizeof s->flags);
  int err = nl_call(fd, &r);
  if (err && err != EEXIST)
    fail("netlink", err, d->name, "restore an address of %s in the container", d->name);
}

/* Stage 0, before clone: remember the device and check that it exists. */
static void record_net_device(const struct op *o, int index)
{
  if (n_netdevs >= NETDEV_MAX)
    fail(NULL, E2BIG, NULL, "too many network devices (at most %d)", NETDEV_MAX);
  struct netdev *d = &netdevs[n_netdevs++];
  memset(d, 0, sizeof *d);
  d->host = S(o, 0);
  d->name = S(o, 1);
  d->op_index = index;
  d->ifindex = if_nametoindex(d->host);
  if (d->ifindex == 0)
    fail("if_nametoindex", errno, d->host, "network device %s not found on the host", d->host);
  if (nl_host < 0)
    nl_host = nl_socket();
}

/* Stage 0, after clone: move every device into the child's network
 * namespace under its new name, then from inside that namespace restore
 * the addresses and bring it up. */
static void move_net_devices(pid_t child)
{
  if (n_netdevs == 0)
    return;
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/ns/net", child);
  int target = open(path, O_RDONLY | O_CLOEXEC);
  if (target < 0)
    fail("open", errno, path, "open the container's network namespace");
  int host = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (host < 0)
    fail("open", errno, "/proc/self/ns/net", "open our network namespace");
  int fd = nl_host;
  for (int i = 0; i < n_netdevs; i++) {
    struct netdev *d = &netdevs[i];
    cur_op = d->op_index;
    save_addresses(fd, d);
    struct nlreq r;
    newlink_request(&r, d->ifindex);
    uint32_t nsfd = (uint32_t) target;
    nl_attr(&r, IFLA_NET_NS_FD, &nsfd, sizeof nsfd);
    nl_attr(&r, IFLA_IFNAME, d->name, strlen(d->name) + 1);
    int err = nl_call(fd, &r);
    if (err)
      fail("netlink", err, d->host, "move network device %s into the container as %s", d->host, d->name);
  }
  close(nl_host);
  nl_host = -1;
  /* a netlink socket works in the namespace it was created in */
  if (setns(target, CLONE_NEWNET) < 0)
    fail("setns", errno, NULL, "enter the container's network namespace");
  fd = nl_socket();
  for (int i = 0; i < n_netdevs; i++) {
    struct netdev *d = &netdevs[i];
    cur_op = d->op_index;
    /* a "%d" template leaves the name to the kernel; the index survives
     * the move unless it was taken in the new namespace */
    unsigned idx = strstr(d->name, "%d") ? d->ifindex : if_nametoindex(d->name);
    if (idx == 0)
      fail("if_nametoindex", errno, d->name, "find %s in the container's network namespace", d->name);
    for (int k = 0; k < d->naddrs; k++)
      add_address(fd, d, idx, &d->addrs[k]);
    int err = nl_link_up(fd, idx);
    if (err)
      fail("netlink", err, d->name, "set %s up in the container", d->name);
  }
  close(fd);
  if (setns(host, CLONE_NEWNET) < 0)
    fail("setns", errno, NULL, "return to the host network namespace");
  close(host);
  close(target);
}

/* Network (placeholder until the network issue lands: an empty namespace, nothing up). */
#include "launcher/net.h"

int net_setup_parent(struct task *t, struct sr_error *e) { return 0; }
int net_setup_child(struct task *t, struct sr_error *e) { return 0; }
void net_release(struct task *t) { }

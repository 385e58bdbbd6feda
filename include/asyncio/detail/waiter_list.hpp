#pragma once
// waiter_list: the intrusive FIFO of waiter nodes that every sync primitive queues its awaiters in.
// It is detail/intrusive_list.hpp untagged (a waiter is in one list at a time); see there for the
// list itself and why it is intrusive and doubly linked.
#include <asyncio/detail/intrusive_list.hpp>

namespace asyncio::detail {

/// A link in a waiter_list.
using waiter_node = intrusive_node<>;

/// FIFO of W (which derives from waiter_node): push_back, pop_front (the oldest), remove.
template <class W>
using waiter_list = intrusive_list<W>;

}  // namespace asyncio::detail

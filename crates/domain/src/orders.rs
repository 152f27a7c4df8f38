//! Orders, order lines and subscriptions: pricing and state machines.

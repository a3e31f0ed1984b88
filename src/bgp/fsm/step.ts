import type { FsmContext } from './context.js';
import type { StepResult } from './actions.js';
import { OTHERWISE, TABLE, type StateRow } from './table.js';
import type { EventOf, EventType, FsmEvent } from './types.js';

/** One RFC 4271 §8 transition: pure, so the caller decides when and how effects happen. */
export function step(ctx: FsmContext, event: FsmEvent): StepResult {
  return apply(ctx, event.type, event);
}

// Generic over K so the cell looked up for `type` accepts the event of that type.
function apply<K extends EventType>(ctx: FsmContext, type: K, event: EventOf<K>): StepResult {
  const row: StateRow = TABLE[ctx.state];
  const cell = row[type];
  return cell ? cell(ctx, event) : OTHERWISE[ctx.state](ctx, event);
}

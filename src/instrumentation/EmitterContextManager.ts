/**
 * The standard AsyncLocalStorage context manager, with a cheaper way of
 * binding an EventEmitter to a context. instrumentation-http binds every
 * request and response; the stock manager patches five listener methods per
 * emitter and wraps every listener in its own closure, with a map to undo it
 * on removeListener. Wrapping `emit` once gives the same guarantee — every
 * listener runs in the bound context — for one closure per emitter.
 * (Listeners registered before the bind, i.e. node's own, run in that context
 * too; they create no spans.)
 */
import type { Context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { EventEmitter } from 'node:events';

const kBound = Symbol('cvd-activity.bound-emit');
type Bindable = EventEmitter & { [kBound]?: true };

/** AsyncLocalStorageContextManager whose EventEmitter binding wraps `emit` instead of every listener. */
export class EmitterContextManager extends AsyncLocalStorageContextManager {
  override bind<T>(context: Context, target: T): T {
    if (!(target instanceof EventEmitter)) return super.bind(context, target);
    const emitter = target as Bindable;
    // The first binding wins, as with the stock manager.
    if (emitter[kBound]) return target;
    emitter[kBound] = true;
    const emit = emitter.emit;
    const manager = this;
    // `arguments` and one arrow per emit: the stock with() would also allocate a
    // rest array, a spread and a bound function on every event.
    emitter.emit = function boundEmit(this: EventEmitter): boolean {
      // eslint-disable-next-line prefer-rest-params
      const args = arguments as unknown as Parameters<EventEmitter['emit']>;
      if (manager.active() === context) return emit.apply(this, args);
      return manager.with(context, () => emit.apply(this, args));
    };
    return target;
  }
}

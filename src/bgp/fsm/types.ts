import type { Notify } from '../wire/errors.js';

/** RFC 4271 §8.2.2 session states. */
export type State = 'Idle' | 'Connect' | 'Active' | 'OpenSent' | 'OpenConfirm' | 'Established';

export const STATES = ['Idle', 'Connect', 'Active', 'OpenSent', 'OpenConfirm', 'Established'] as const satisfies readonly State[];

/**
 * RFC 4271 §8.1 events, named as the RFC names them. AutomaticStop, the
 * DelayOpen events and Tcp_CR_Invalid are left out: this speaker never
 * generates them (§8.1.1 optional attributes DelayOpen and
 * CollisionDetectEstablishedState are off; collisions reach the FSM only as
 * OpenCollisionDump).
 */
export type FsmEvent =
  // §8.1.2 administrative events
  | { readonly type: 'ManualStart' }
  /** Passive peer: waits for the remote side to connect and never initiates. */
  | { readonly type: 'ManualStartPassive' }
  | { readonly type: 'ManualStop' }
  | { readonly type: 'AutomaticStart' }
  | { readonly type: 'AutomaticStartPassive' }
  // §8.1.3 timer events
  | { readonly type: 'ConnectRetryTimerExpires' }
  | { readonly type: 'HoldTimerExpires' }
  | { readonly type: 'KeepaliveTimerExpires' }
  | { readonly type: 'IdleHoldTimerExpires' }
  // §8.1.4 TCP connection events
  /**
   * Our outbound connection is up. RFC 4271's event 14 is about validating an
   * inbound SYN, which the session layer does before accepting; the name is
   * kept as a synonym of TcpCRAcked (event 16) for callers that use it.
   */
  | { readonly type: 'TcpConnectionValid' }
  | { readonly type: 'TcpCRAcked' }
  /** An inbound connection for this peer was accepted. */
  | { readonly type: 'TcpConnectionConfirmed' }
  | { readonly type: 'TcpConnectionFails' }
  // §8.1.5 message events
  /** A received OPEN the session layer already validated; holdTime is the peer's, in seconds. */
  | { readonly type: 'BGPOpen'; readonly holdTime: number }
  | { readonly type: 'BGPHeaderErr'; readonly notify: Notify }
  | { readonly type: 'BGPOpenMsgErr'; readonly notify: Notify }
  /** The session layer lost the §6.8 collision resolution on this connection. */
  | { readonly type: 'OpenCollisionDump' }
  | { readonly type: 'NotifMsgVerErr' }
  | { readonly type: 'NotifMsg' }
  | { readonly type: 'KeepAliveMsg' }
  | { readonly type: 'UpdateMsg' }
  | { readonly type: 'UpdateMsgErr'; readonly notify: Notify }
  /** RFC 2918 ROUTE-REFRESH: an UPDATE as far as the timers are concerned. */
  | { readonly type: 'RouteRefreshMsg' };

export type EventType = FsmEvent['type'];
export type EventOf<K extends EventType> = Extract<FsmEvent, { readonly type: K }>;

export const EVENT_TYPES: readonly EventType[] = [
  'ManualStart', 'ManualStartPassive', 'ManualStop', 'AutomaticStart', 'AutomaticStartPassive',
  'ConnectRetryTimerExpires', 'HoldTimerExpires', 'KeepaliveTimerExpires', 'IdleHoldTimerExpires',
  'TcpConnectionValid', 'TcpCRAcked', 'TcpConnectionConfirmed', 'TcpConnectionFails',
  'BGPOpen', 'BGPHeaderErr', 'BGPOpenMsgErr', 'OpenCollisionDump', 'NotifMsgVerErr', 'NotifMsg',
  'KeepAliveMsg', 'UpdateMsg', 'UpdateMsgErr', 'RouteRefreshMsg',
] as const satisfies readonly EventType[];

/** Fails to compile when a member of T is left out of a list meant to be complete. */
type Complete<Missing extends never> = Missing;
export type ListsAreComplete = [
  Complete<Exclude<State, (typeof STATES)[number]>>,
  Complete<Exclude<EventType, (typeof EVENT_TYPES)[number]>>,
];

export type TimerName = 'connectRetry' | 'hold' | 'keepalive' | 'idleHold';

export const TIMERS = ['connectRetry', 'hold', 'keepalive', 'idleHold'] as const satisfies readonly TimerName[];

/** What the session layer must do, in the order given. */
export type Effect =
  /** Initiate the outbound TCP connection. */
  | { readonly type: 'connect' }
  /** Close the current TCP connection (after flushing a queued NOTIFICATION). */
  | { readonly type: 'drop' }
  | { readonly type: 'sendOpen' }
  | { readonly type: 'sendKeepalive' }
  | { readonly type: 'sendNotification'; readonly notify: Notify }
  | { readonly type: 'startTimer'; readonly timer: TimerName; readonly ms: number }
  | { readonly type: 'stopTimer'; readonly timer: TimerName }
  /** The session is up: the RIB may exchange routes. */
  | { readonly type: 'established' }
  /** The session (OpenSent or later) is gone: release whatever it held, routes included. */
  | { readonly type: 'down'; readonly reason: string }
  /** Hand the received UPDATE to the RIB; emitted only in Established. */
  | { readonly type: 'processUpdate' }
  /**
   * Answer the received ROUTE-REFRESH (RFC 2918 §4); emitted only in
   * Established. Not in the original design: without it the session layer
   * would have to inspect the state to know whether the FSM accepted it.
   */
  | { readonly type: 'processRouteRefresh' };

export type EffectType = Effect['type'];

/** The effects FsmRunner passes on; it runs the timer effects itself. */
export type SessionEffect = Exclude<Effect, { readonly type: 'startTimer' | 'stopTimer' }>;

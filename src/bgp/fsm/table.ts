/**
 * RFC 4271 §8.2.2 as a table: one row per state, one named transition per
 * event. A missing cell is the RFC's "any other event" for that state, see
 * OTHERWISE. The RFC's DelayOpen branches are left out (DelayOpen is off).
 */
import { CeaseSubcode, ErrorCode } from '../wire/constants.js';
import {
  type Action, backoff, cancelIdleHold, choose, connect, countRetry, down, drop, established,
  go, holdOff, ignore, negotiateHold, processRouteRefresh, processUpdate, resetBackoff, resetRetries,
  restartHold, restartKeepalive, sendCease, sendEventNotify, sendFsmError, sendKeepalive, sendNotification,
  sendOpen, setPassive, startConnectRetry, startLargeHold, stay, stopAllTimers, stopTimer,
} from './actions.js';
import type { EventOf, EventType, FsmEvent, State } from './types.js';

export type StateRow = { readonly [K in EventType]?: Action<EventOf<K>> };
export type Table = { readonly [S in State]: StateRow };

// --- Idle -------------------------------------------------------------------

const manualStartActive = go('Connect', cancelIdleHold, setPassive(false), resetRetries, startConnectRetry, connect);
const manualStartPassive = go('Active', cancelIdleHold, setPassive(true), resetRetries);
const manualStart = choose((c) => (c.configuredPassive ? manualStartPassive : manualStartActive));
// Automatic starts keep the retry counter (the RFC zeroes it) so that it
// counts consecutive failures, and defer to a pending back-off wait.
const autoStartActive = go('Connect', cancelIdleHold, setPassive(false), startConnectRetry, connect);
const autoStartPassive = go('Active', cancelIdleHold, setPassive(true));
const automaticStart = choose((c) =>
  (c.idleHoldRunning ? ignore : c.configuredPassive ? autoStartPassive : autoStartActive));
const automaticStartPassive = choose((c) => (c.idleHoldRunning ? ignore : autoStartPassive));
const idleHoldExpired = choose((c) => (!c.idleHoldRunning ? ignore : c.passive ? autoStartPassive : autoStartActive));
/** §8.2.2 Idle: "refuses all incoming BGP connections for this peer". */
const refuseConnection = stay(drop);
/** Without a pending restart the peer stays down, so the wait starts over next time. */
const stopIdle = stay(stopAllTimers, resetRetries, resetBackoff);

// --- Connect / Active -------------------------------------------------------

const stopUnconnected = go('Idle', drop, stopAllTimers, resetRetries, resetBackoff);
const retryConnect = stay(drop, startConnectRetry, connect);
const retryFromActive = choose((c) => (c.passive ? ignore : go('Connect', startConnectRetry, connect)));
/** §8.2.2 Connect/Active with DelayOpen off: send OPEN at once. */
const openSession = go('OpenSent', stopTimer('connectRetry'), sendOpen, startLargeHold);
// RFC 4271 goes to Idle here; like FRR we keep listening in Active and let
// the connect retry timer schedule the next attempt, so a refused connection
// does not escalate the idle hold back-off.
const connectFailed = go('Active', drop, startConnectRetry);
const unconnectedError = go('Idle', drop, stopAllTimers, countRetry, backoff);

// --- OpenSent / OpenConfirm / Established -----------------------------------

/** §8.2.2: start events are for Idle; anywhere else the peer is already started. */
const startsIgnored = {
  ManualStart: ignore,
  ManualStartPassive: ignore,
  AutomaticStart: ignore,
  AutomaticStartPassive: ignore,
} as const satisfies StateRow;

/** §6.8: a second connection is the session layer's to resolve; this one carries on. */
const secondConnection = {
  TcpConnectionValid: ignore,
  TcpCRAcked: ignore,
  TcpConnectionConfirmed: ignore,
} as const satisfies StateRow;

const stopSession = go('Idle',
  sendCease(CeaseSubcode.AdministrativeShutdown), drop, stopAllTimers, down('manual stop'), resetRetries, resetBackoff);
/** §6.5 */
const holdTimerExpired = go('Idle',
  sendNotification(ErrorCode.HoldTimerExpired, 0), drop, stopAllTimers, down('hold timer expired'), countRetry, backoff);
const messageError = go<EventOf<'BGPHeaderErr' | 'BGPOpenMsgErr' | 'UpdateMsgErr'>>(
  'Idle',
  sendEventNotify, drop, stopAllTimers,
  down((_c, ev) => `${ev.type}: sent NOTIFICATION ${ev.notify.code}/${ev.notify.subcode}`),
  countRetry, backoff);
/** §6.8: the connection that lost the collision closes with Cease 7. */
const collisionDump = go('Idle',
  sendCease(CeaseSubcode.ConnectionCollisionResolution), drop, stopAllTimers, down('connection collision'),
  countRetry, holdOff);
// No NOTIFICATION back: §4.5 closes the connection right after one. RFC 4271
// lists NotifMsg among OpenSent's "any other" events, which would answer with
// an FSM error; we follow FRR and stay silent.
const notificationReceived = go('Idle', drop, stopAllTimers, down('NOTIFICATION received'), countRetry, backoff);
/** §8.2.2 OpenSent/OpenConfirm do not count a version error as a retry. */
const versionError = go('Idle', drop, stopAllTimers, down('NOTIFICATION received: unsupported version'), backoff);
const connectionLost = go('Idle', drop, stopAllTimers, down('TCP connection lost'), countRetry, backoff);
const connectionLostBeforeOpen = go('Active', drop, stopAllTimers, down('TCP connection lost'), startConnectRetry);
const openReceived = go('OpenConfirm', sendKeepalive, negotiateHold);
const keepaliveDue = stay(sendKeepalive, restartKeepalive);
const sessionUp = go('Established', restartHold, resetBackoff, established);
const fsmError = go<FsmEvent>('Idle',
  sendFsmError, drop, stopAllTimers, down((c, ev) => `FSM error: unexpected ${ev.type} in ${c.state}`),
  countRetry, backoff);

export const TABLE = {
  Idle: {
    ManualStart: manualStart,
    ManualStartPassive: manualStartPassive,
    AutomaticStart: automaticStart,
    AutomaticStartPassive: automaticStartPassive,
    IdleHoldTimerExpires: idleHoldExpired,
    ManualStop: stopIdle,
    TcpConnectionValid: refuseConnection,
    TcpCRAcked: refuseConnection,
    TcpConnectionConfirmed: refuseConnection,
  },
  Connect: {
    ...startsIgnored,
    ManualStop: stopUnconnected,
    ConnectRetryTimerExpires: retryConnect,
    TcpConnectionValid: openSession,
    TcpCRAcked: openSession,
    TcpConnectionConfirmed: openSession,
    TcpConnectionFails: connectFailed,
  },
  Active: {
    ...startsIgnored,
    ManualStop: stopUnconnected,
    ConnectRetryTimerExpires: retryFromActive,
    TcpConnectionValid: openSession,
    TcpCRAcked: openSession,
    TcpConnectionConfirmed: openSession,
  },
  OpenSent: {
    ...startsIgnored,
    ...secondConnection,
    ManualStop: stopSession,
    HoldTimerExpires: holdTimerExpired,
    TcpConnectionFails: connectionLostBeforeOpen,
    BGPOpen: openReceived,
    BGPHeaderErr: messageError,
    BGPOpenMsgErr: messageError,
    OpenCollisionDump: collisionDump,
    NotifMsgVerErr: versionError,
    NotifMsg: notificationReceived,
  },
  OpenConfirm: {
    ...startsIgnored,
    ...secondConnection,
    ManualStop: stopSession,
    HoldTimerExpires: holdTimerExpired,
    KeepaliveTimerExpires: keepaliveDue,
    TcpConnectionFails: connectionLost,
    BGPHeaderErr: messageError,
    BGPOpenMsgErr: messageError,
    OpenCollisionDump: collisionDump,
    NotifMsgVerErr: versionError,
    NotifMsg: notificationReceived,
    KeepAliveMsg: sessionUp,
  },
  // An OPEN, valid or not, is unexpected here: BGPOpenMsgErr gets RFC 6608's
  // FSM error like BGPOpen rather than an OPEN error.
  Established: {
    ...startsIgnored,
    ...secondConnection,
    ManualStop: stopSession,
    HoldTimerExpires: holdTimerExpired,
    KeepaliveTimerExpires: keepaliveDue,
    TcpConnectionFails: connectionLost,
    BGPHeaderErr: messageError,
    OpenCollisionDump: collisionDump,
    NotifMsgVerErr: notificationReceived,
    NotifMsg: notificationReceived,
    KeepAliveMsg: stay(restartHold),
    UpdateMsg: stay(processUpdate, restartHold),
    UpdateMsgErr: messageError,
    RouteRefreshMsg: stay(processRouteRefresh, restartHold),
  },
} as const satisfies Table;

/**
 * The RFC's "any other event" row. Idle ignores; Connect and Active give up
 * the attempt; from OpenSent on it is an FSM error (§6.6), which covers an
 * UPDATE (valid or not) before Established: RFC 6608 reports the message
 * type, not its content.
 */
export const OTHERWISE: { readonly [S in State]: Action<FsmEvent> } = {
  Idle: ignore,
  Connect: unconnectedError,
  Active: unconnectedError,
  OpenSent: fsmError,
  OpenConfirm: fsmError,
  Established: fsmError,
};

/** IANA numbers used on the wire. Names follow the RFCs that define them. */

export const HEADER_LENGTH = 19;
/** RFC 4271 §4.1: the largest message without RFC 8654 extended messages. */
export const MAX_MESSAGE_LENGTH = 4096;
/** RFC 8654 §2: the largest message once both sides advertised extended messages. */
export const MAX_EXTENDED_MESSAGE_LENGTH = 65535;
export const BGP_VERSION = 4;
/** RFC 6793 §9: the 2-octet stand-in for a 4-octet AS number. */
export const AS_TRANS = 23456;

export const enum MessageType {
  Open = 1,
  Update = 2,
  Notification = 3,
  Keepalive = 4,
  RouteRefresh = 5,
}

export const enum AttrType {
  Origin = 1,
  AsPath = 2,
  NextHop = 3,
  MultiExitDisc = 4,
  LocalPref = 5,
  AtomicAggregate = 6,
  Aggregator = 7,
  Communities = 8,
  OriginatorId = 9,
  ClusterList = 10,
  MpReachNlri = 14,
  MpUnreachNlri = 15,
  ExtendedCommunities = 16,
  As4Path = 17,
  As4Aggregator = 18,
  PmsiTunnel = 22,
  LargeCommunities = 32,
}

/** RFC 4271 §4.3 attribute flag bits. */
export const enum AttrFlag {
  Optional = 0x80,
  Transitive = 0x40,
  Partial = 0x20,
  ExtendedLength = 0x10,
}

export const enum CapabilityCode {
  Multiprotocol = 1,
  RouteRefresh = 2,
  ExtendedNextHop = 5,
  ExtendedMessage = 6,
  GracefulRestart = 64,
  FourOctetAs = 65,
  AddPath = 69,
  EnhancedRouteRefresh = 70,
  Fqdn = 73,
}

/** RFC 5492 §4: the only optional parameter RFC 4271 speakers use today. */
export const OPT_PARAM_CAPABILITIES = 2;
/** RFC 9072 §2: marks the extended optional parameters length encoding. */
export const OPT_PARAM_EXTENDED = 255;

export const enum Afi {
  Ipv4 = 1,
  Ipv6 = 2,
  L2vpn = 25,
}

export const enum Safi {
  Unicast = 1,
  Multicast = 2,
  Evpn = 70,
  MplsVpn = 128,
}

export const enum Origin {
  Igp = 0,
  Egp = 1,
  Incomplete = 2,
}

export const enum AsPathSegmentType {
  AsSet = 1,
  AsSequence = 2,
  ConfedSequence = 3,
  ConfedSet = 4,
}

/** RFC 4271 §4.5 error codes. */
export const enum ErrorCode {
  MessageHeader = 1,
  Open = 2,
  Update = 3,
  HoldTimerExpired = 4,
  Fsm = 5,
  Cease = 6,
  /** RFC 7313 §5 */
  RouteRefresh = 7,
}

export const enum HeaderSubcode {
  ConnectionNotSynchronized = 1,
  BadMessageLength = 2,
  BadMessageType = 3,
}

export const enum OpenSubcode {
  UnsupportedVersion = 1,
  BadPeerAs = 2,
  BadBgpIdentifier = 3,
  UnsupportedOptionalParameter = 4,
  UnacceptableHoldTime = 6,
  /** RFC 5492 §5 */
  UnsupportedCapability = 7,
}

export const enum UpdateSubcode {
  MalformedAttributeList = 1,
  UnrecognizedWellKnownAttribute = 2,
  MissingWellKnownAttribute = 3,
  AttributeFlagsError = 4,
  AttributeLengthError = 5,
  InvalidOriginAttribute = 6,
  InvalidNextHopAttribute = 8,
  OptionalAttributeError = 9,
  InvalidNetworkField = 10,
  MalformedAsPath = 11,
}

/** RFC 4271 §6.6 FSM error subcodes are RFC 6608's. */
export const enum FsmSubcode {
  Unspecified = 0,
  UnexpectedInOpenSent = 1,
  UnexpectedInOpenConfirm = 2,
  UnexpectedInEstablished = 3,
}

/** RFC 4486 §4 */
export const enum CeaseSubcode {
  MaxPrefixes = 1,
  AdministrativeShutdown = 2,
  PeerDeconfigured = 3,
  AdministrativeReset = 4,
  ConnectionRejected = 5,
  OtherConfigurationChange = 6,
  ConnectionCollisionResolution = 7,
  OutOfResources = 8,
  /** RFC 8538 */
  HardReset = 9,
}

/** RFC 7313 §5 */
export const enum RouteRefreshSubcode {
  InvalidMessageLength = 1,
}

/** RFC 7313 §3: the message subtype carried in ROUTE-REFRESH's reserved octet. */
export const enum RouteRefreshSubtype {
  Normal = 0,
  BeginningOfRouteRefresh = 1,
  EndOfRouteRefresh = 2,
}

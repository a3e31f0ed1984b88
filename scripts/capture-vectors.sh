#!/usr/bin/env bash
# capture-vectors.sh: byte-exact BGP wire test vectors from real FRR and GoBGP traffic.
#
#   sudo scripts/capture-vectors.sh            # run every scenario, rewrite test/vectors/*.json
#   sudo scripts/capture-vectors.sh --verify   # only re-check the stored JSON with tshark
#
# Needs root (tshark on lo, bgpd -S, port 179), FRR 8.4 (/usr/lib/frr/bgpd, vtysh), gobgpd/gobgp
# 3.10, tshark 4.0, python3, unshare. Takes about two and a half minutes.
#
# What it does, per scenario (S1..S8 below):
#   1. starts tshark on lo for that scenario's addresses/ports only (127.0.9.0/24, and ::1
#      for the IPv6-transport scenario; nothing leaves the host),
#   2. starts bgpd standalone (-Z, no zebra) and gobgpd with configs written inline below,
#   3. runs the vtysh / gobgp commands listed in the scenario, logging each one with a
#      timestamp (steps.tsv) so every captured message can name the command behind it,
#   4. stops everything and keeps the pcapng under .run/vectors/<scenario>/.
# Then the embedded python reassembles each TCP direction (tcp.payload, ordered by seq),
# splits it into BGP messages on the 16-byte marker + 2-byte length, checks every message
# against tshark's own dissection of the same capture (type, length, no malformed/expert
# warning), dedupes identical bytes, names each message from its decoded content, and writes
#   test/vectors/bgp-messages.json        OPEN/KEEPALIVE/NOTIFICATION/ROUTE-REFRESH and
#                                         ipv4/ipv6 unicast UPDATEs
#   test/vectors/evpn-vpn-messages.json   UPDATEs for l2vpn-evpn, ipv4-vpn, ipv6-vpn
# Finally it rebuilds a synthetic pcap from the stored hex alone (one TCP stream per message)
# and requires tshark to decode each one cleanly with the same BGP type and length.
#
# Determinism: router ids, ASNs, hostnames (FRR `hostname`; gobgpd runs in its own UTS
# namespace because it sends the OS hostname in its FQDN capability) and routes are fixed,
# so a rerun should produce the same bytes; only message order within a burst may differ.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=${WORK:-$ROOT/.run/vectors}
OUT=${OUT:-$ROOT/test/vectors}
FRR_BIN=${FRR_BIN:-/usr/lib/frr}
FRR_VERSION="FRR $("$FRR_BIN/bgpd" --version 2>/dev/null | awk 'NR==1{print $3}')"
GOBGP_VERSION="GoBGP $(gobgpd --version | awk '{print $3}' | sed 's/\.0$//')"
NET=127.0.9   # the shared lab uses 127.0.1.x and the TS harness 127.0.16-254.x

PY=$WORK/extract.py

write_python() {
cat >"$PY" <<'PYEOF'
# Embedded in scripts/capture-vectors.sh; see the comment at the top of that script.
#   extract WORK OUT FRR_SOURCE GOBGP_SOURCE   captures -> test/vectors/*.json
#   verify WORK OUT                            stored hex -> synthetic pcap -> tshark must agree
import ipaddress
import json
import os
import re
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET

TYPES = {1: 'open', 2: 'update', 3: 'notification', 4: 'keepalive', 5: 'route-refresh'}
PROBLEMS = 'bgp && (_ws.malformed || _ws.expert.severity >= 6291456)'
FAMILY = {(1, 1): 'ipv4-unicast', (2, 1): 'ipv6-unicast', (1, 128): 'ipv4-vpn', (2, 128): 'ipv6-vpn',
          (25, 70): 'l2vpn-evpn', (1, 4): 'ipv4-labeled', (2, 4): 'ipv6-labeled'}
EVPN_FAMILIES = {'ipv4-vpn', 'ipv6-vpn', 'l2vpn-evpn'}
OUT_FILES = {'main': 'bgp-messages.json', 'evpn': 'evpn-vpn-messages.json'}


def die(msg):
    print(f'capture-vectors: {msg}', file=sys.stderr)
    sys.exit(1)


def tshark(args):
    r = subprocess.run(['tshark', *args], capture_output=True, text=True)
    if r.returncode != 0:
        die(f'tshark {" ".join(args)} failed: {r.stderr.strip()}')
    return r.stdout


def decode_as(ports):
    return [x for p in sorted(set(ports)) if p != 179 for x in ('-d', f'tcp.port=={p},bgp')]


# ----------------------------------------------------------------------------- reassembly

def read_messages(pcap, ports):
    """Every BGP message in the capture, split from each TCP direction's reassembled bytes."""
    out = tshark(['-r', pcap, *decode_as(ports), '-Y', 'tcp.len>0', '-T', 'fields', '-E', 'separator=/t',
                  '-e', 'frame.number', '-e', 'frame.time_epoch', '-e', 'tcp.stream', '-e', 'ip.src', '-e', 'ipv6.src',
                  '-e', 'tcp.srcport', '-e', 'tcp.dstport', '-e', 'tcp.seq', '-e', 'tcp.payload'])
    dirs = {}
    for line in out.splitlines():
        frame, t, stream, src4, src6, sport, dport, seq, payload = line.split('\t')
        key = (int(stream), src4 or src6, int(sport), int(dport))
        dirs.setdefault(key, []).append((int(seq), int(frame), float(t), bytes.fromhex(payload.replace(':', ''))))
    msgs = []
    for (stream, src, sport, dport), segs in dirs.items():
        segs.sort(key=lambda s: (s[0], s[1]))
        buf, starts, nxt = bytearray(), [], None
        for seq, frame, t, data in segs:
            nxt = seq if nxt is None else nxt
            if seq > nxt:
                die(f'{pcap}: gap in stream {stream} from {src}:{sport} at seq {nxt}')
            data = data[nxt - seq:]          # drop what a retransmission repeats
            if not data:
                continue
            starts.append((len(buf), frame, t))
            buf += data
            nxt += len(data)
        off = 0
        while off < len(buf):
            if len(buf) - off < 19 or buf[off:off + 16] != b'\xff' * 16:
                die(f'{pcap}: no BGP marker at offset {off} of stream {stream} from {src}:{sport}')
            ln = struct.unpack('>H', buf[off + 16:off + 18])[0]
            if ln < 19 or off + ln > len(buf):
                die(f'{pcap}: bad or truncated BGP length {ln} in stream {stream} from {src}:{sport}')
            end = off + ln - 1
            _, frame, t = max((s for s in starts if s[0] <= end), key=lambda s: s[0])
            msgs.append({'bytes': bytes(buf[off:off + ln]), 'frame': frame, 'time': t, 'end': end,
                         'src': src, 'sport': sport, 'dport': dport, 'stream': stream})
            off += ln
    msgs.sort(key=lambda m: (m['frame'], m['end']))
    return msgs


# ----------------------------------------------------------------------------- tshark view

def pdml_bgp(pcap, ports):
    """frame number -> the bgp <proto> elements tshark shows in that frame, in order."""
    root = ET.fromstring(tshark(['-r', pcap, *decode_as(ports), '-Y', 'bgp', '-T', 'pdml']))
    frames = {}
    for pkt in root.iter('packet'):
        num = next(int(f.get('show')) for f in pkt.iter('field') if f.get('name') == 'frame.number')
        frames[num] = [p for p in pkt.findall('proto') if p.get('name') == 'bgp']
    return frames


def problem_frames(pcap, ports):
    out = tshark(['-r', pcap, *decode_as(ports), '-Y', PROBLEMS, '-T', 'fields', '-e', 'frame.number', '-e', '_ws.expert.message'])
    return {int(l.split('\t')[0]): l for l in out.splitlines() if l.strip()}


def field(el, name):
    for f in el.iter('field'):
        if f.get('name') == name:
            return f.get('show')
    return None


NOISE = {'bgp.marker', 'bgp.length', 'bgp.type', 'bgp.open.opt.param.type', 'bgp.cap.type', 'bgp.cap.reserved',
         'bgp.update.path_attribute.type_code', 'bgp.update.path_attribute.flags', 'bgp.open.version'}
BITS = re.compile(r'^[.01 ]+ = ')
PREFIXES = ('Capability: ', 'Path Attribute - ', 'Optional Parameter: ')
# attributes whose summary line already says everything the children would
SELF_DESCRIBING = ('ORIGIN', 'NEXT_HOP', 'MULTI_EXIT_DISC', 'LOCAL_PREF', 'COMMUNITIES', 'LARGE_COMMUNITY',
                   'ATOMIC_AGGREGATE', 'ORIGINATOR_ID', 'CLUSTER_LIST')


def noise(f):
    n = f.get('name') or ''
    return n in NOISE or n.endswith(('.len', '.length', '_length')) or n.startswith('_ws') or f.tag != 'field'


def text(f):
    s = f.get('showname') or f.get('show') or ''
    for p in PREFIXES:
        if s.startswith(p):
            s = s[len(p):]
    return s.strip()


def render(f):
    name = f.get('name') or ''
    label = text(f)
    kids = [k for k in f if not noise(k)]
    if kids and all(BITS.match(k.get('showname') or '') for k in kids):
        kids = []
    if name == 'bgp.update.path_attribute':
        flags = field(f, 'bgp.update.path_attribute.flags')
        head = f'{label} [flags {flags}]'
        if label.split(':')[0] in SELF_DESCRIBING:
            return head
        return head + (' {' + ', '.join(render(k) for k in kids) + '}' if kids else '')
    if BITS.match(label):
        label = BITS.sub('', label)
    if not kids:
        return label
    inner = ', '.join(r for r in (render(k) for k in kids) if r)
    return f'{label} {{{inner}}}' if label else inner


def notes_for(el, raw):
    t = raw[18]
    if t == 1:
        params = [p for p in el.iter('field') if p.get('name') == 'bgp.open.opt.param']
        caps = [c for c in el.iter('field') if c.get('name') == 'bgp.cap']
        head = (f"My AS {field(el, 'bgp.open.myas')}, hold {field(el, 'bgp.open.holdtime')}, "
                f"id {field(el, 'bgp.open.identifier')}, {len(caps)} capabilities in {len(params)} optional parameter(s)")
        return head + (': ' + '; '.join(render(c) for c in caps) if caps else ' (none)')
    if t == 4:
        return 'KEEPALIVE (header only)'
    parts = [render(k) for k in el if not noise(k)]
    return '; '.join(p for p in parts if p)


# ----------------------------------------------------------------------------- naming

def afi_safi(b, off):
    afi, safi = struct.unpack('>HB', b[off:off + 3])
    return FAMILY.get((afi, safi), f'afi{afi}-safi{safi}')


def attributes(b):
    """(withdrawn bytes, {type code: value}, trailing NLRI bytes) of an UPDATE."""
    wl = struct.unpack('>H', b[19:21])[0]
    al = struct.unpack('>H', b[21 + wl:23 + wl])[0]
    attrs, off, end = {}, 23 + wl, 23 + wl + al
    while off < end:
        flags, code = b[off], b[off + 1]
        if flags & 0x10:
            ln, hdr = struct.unpack('>H', b[off + 2:off + 4])[0], 4
        else:
            ln, hdr = b[off + 2], 3
        attrs[code] = b[off + hdr:off + hdr + ln]
        off += hdr + ln
    return b[21:21 + wl], attrs, b[end:]


def first_route(fam, nlri, addpath):
    """The first route key in an NLRI field, for naming: prefix, or the EVPN route's MAC/IP/prefix."""
    if not nlri:
        return ''
    if fam == 'l2vpn-evpn':
        rt, body = nlri[0], nlri[2:2 + nlri[1]]
        if rt == 2:
            mac = ':'.join(f'{x:02x}' for x in body[23:29])
            iplen = body[29]
            ip = body[30:30 + iplen // 8]
            return mac + (f'-{ip_text(ip)}' if iplen else '')
        if rt == 3:
            return ip_text(body[13:13 + body[12] // 8])
        if rt == 5:
            size = 4 if len(body) == 34 else 16
            return f'{ip_text(body[23:23 + size])}/{body[22]}'
        if rt == 1:
            return f'esi{body[8:18].hex()}-etag{struct.unpack(">I", body[18:22])[0]}'
        if rt == 4:
            return f'esi{body[8:18].hex()}-{ip_text(body[19:19 + body[18] // 8])}'
        return f'type{rt}'
    off = 4 if addpath else 0
    path = f'-path{struct.unpack(">I", nlri[:4])[0]}' if addpath else ''
    plen = nlri[off]
    data = nlri[off + 1:off + 1 + (plen + 7) // 8]
    if fam.endswith('-vpn'):
        plen -= 88
        data = data[11:]
    size = 16 if fam.startswith('ipv6') else 4
    return f'{ip_text(data.ljust(size, bytes(1)))}/{plen}{path}'


def ip_text(raw):
    if len(raw) == 4:
        return str(ipaddress.IPv4Address(raw))
    if len(raw) == 16:
        return str(ipaddress.IPv6Address(raw))
    return raw.hex()


def update_name(b, addpath):
    """(family, name parts) of an UPDATE from its own bytes; addpath comes from tshark's decode."""
    withdrawn, attrs, nlri = attributes(b)
    tags = []
    if 17 in attrs:
        tags.append('as4path')
    if 6 in attrs:
        tags.append('atomic-aggregate')
    elif 7 in attrs:
        tags.append('aggregator')
    if addpath:
        tags.append('addpath')
    if not withdrawn and not attrs and not nlri:
        return 'ipv4-unicast', ['eor', 'ipv4-unicast']
    if 15 in attrs and len(attrs) == 1 and len(attrs[15]) == 3 and not nlri:
        return afi_safi(attrs[15], 0), ['eor', afi_safi(attrs[15], 0)]
    if 14 in attrs:
        mp = attrs[14]
        fam, nhl = afi_safi(mp, 0), mp[3]
        body = mp[5 + nhl:]
        detail = [evpn_detail(body)] if fam == 'l2vpn-evpn' else [f'nh{nhl}']
        return fam, ['update', fam, *detail, *tags, first_route(fam, body, addpath)]
    if 15 in attrs:
        fam = afi_safi(attrs[15], 0)
        body = attrs[15][3:]
        detail = [evpn_detail(body)] if fam == 'l2vpn-evpn' else []
        return fam, ['withdraw', fam, *detail, *tags, first_route(fam, body, addpath)]
    if nlri:
        return 'ipv4-unicast', ['update', 'ipv4-unicast', *tags, first_route('ipv4-unicast', nlri, addpath)]
    return 'ipv4-unicast', ['withdraw', 'ipv4-unicast', *tags, first_route('ipv4-unicast', withdrawn, addpath)]


def evpn_detail(nlri):
    names, off = [], 0
    while off + 2 <= len(nlri):
        rt, ln = nlri[off], nlri[off + 1]
        d = f'type{rt}'
        if rt == 2 and off + 2 + 29 < len(nlri):
            d += '-mac-ip' if nlri[off + 2 + 29] else '-mac-only'
        names.append(d)
        off += 2 + ln
    return '-'.join(dict.fromkeys(names))


CEASE = {1: 'max-prefixes', 2: 'admin-shutdown', 3: 'peer-deconfigured', 4: 'admin-reset', 5: 'connection-rejected',
         6: 'config-change', 7: 'connection-collision', 8: 'out-of-resources', 9: 'hard-reset'}
NOTIF = {1: 'header-error', 2: 'open-error', 3: 'update-error', 4: 'hold-timer-expired', 5: 'fsm-error', 6: 'cease'}
RR_SUBTYPE = {0: 'route-refresh', 1: 'borr', 2: 'eorr'}


def rr_family(b):
    afi, sub, safi = struct.unpack('>HBB', b[19:23])
    return RR_SUBTYPE.get(sub, f'rr-subtype{sub}'), FAMILY.get((afi, safi), f'afi{afi}-safi{safi}')


def base_name(prefix, b, el):
    """(name, output group) from the message bytes; stable across reruns for the same traffic."""
    t = b[18]
    if t == 1:
        return f'{prefix}-open', 'main'
    if t == 4:
        return f'{prefix}-keepalive', 'main'
    if t == 3:
        code, sub = b[19], b[20]
        n = NOTIF.get(code, f'code{code}')
        if code == 6:
            n += '-' + CEASE.get(sub, f'sub{sub}')
            if sub in (2, 4) and len(b) > 21 and b[21] > 0:
                n += '-with-message'
        elif code != 4 or sub != 0:
            n += f'-{sub}'
        return f'{prefix}-notification-{n}', 'main'
    if t == 5:
        kind, fam = rr_family(b)
        return f'{prefix}-{kind}-{fam}', 'main'
    addpath = field(el, 'bgp.nlri_path_id') is not None
    fam, parts = update_name(b, addpath)
    return '-'.join([prefix, *[p for p in parts if p]]), 'evpn' if fam in EVPN_FAMILIES else 'main'


def evpn_step_key(b):
    """Text that the gobgp command of an EVPN type 1 or 4 route contains (their names hold the ESI in
    hex, which no command shows): 'etag N ' for Ethernet A-D, 'evpn esi IP ' for Ethernet Segment."""
    _, attrs, _ = attributes(b)
    if 14 in attrs:
        mp = attrs[14]
        body = mp[5 + mp[3]:]
    elif 15 in attrs:
        mp = attrs[15]
        body = mp[3:]
    else:
        return ''
    if afi_safi(mp, 0) != 'l2vpn-evpn' or len(body) < 2:
        return ''
    rt, route = body[0], body[2:2 + body[1]]
    if rt == 1 and len(route) >= 22:
        return f'etag {struct.unpack(">I", route[18:22])[0]} '
    if rt == 4 and len(route) >= 19:
        return f'evpn esi {ip_text(route[19:19 + route[18] // 8])} '
    return ''


def route_key(b, el):
    """The first route of an UPDATE as it would be typed in a command (no length, no path id)."""
    if b[18] != 2:
        return ''
    special = evpn_step_key(b)
    if special:
        return special
    _, parts = update_name(b, field(el, 'bgp.nlri_path_id') is not None)
    if parts[0] == 'eor' or not parts[-1]:
        return ''
    return re.sub(r'(/\d+)?(-path\d+)?$', '', parts[-1]).split('-')[0]


def how_for(m, sender_how, scen, steps):
    """Sender config plus the command that caused the message: the latest earlier step naming its
    route, else just the latest earlier step (own-config routes are sent on FRR's timers, not ours)."""
    before = [s for t, s in steps if t <= m['time']]
    key = route_key(m['bytes'], m['el'])
    named = [s for s in before if key and key in s]
    if named:
        return f'{sender_how}. Scenario {scen}, after: {named[-1]}'
    if key:
        return f'{sender_how}. Scenario {scen}; route from its own configuration, sent after: {before[-1] if before else "session start"}'
    return f'{sender_how}. Scenario {scen}, after: {before[-1] if before else "session start"}'


# ----------------------------------------------------------------------------- extract

def read_tsv(path):
    with open(path) as fh:
        return [l.rstrip('\n').split('\t') for l in fh if l.strip()]


def sender_of(m, senders):
    for i, (spec, source, prefix, how) in enumerate(senders):
        addr, *ports = spec.split('/')
        if addr != m['src']:
            continue
        if ports and not (m['sport'] == int(ports[0]) or m['dport'] == int(ports[1])):
            continue
        return i, (source, prefix, how)
    die(f'no sender entry for {m["src"]}:{m["sport"]}')


def extract(work, out, frr_source, gobgp_source):
    occurrences = {}   # hex -> [(sort key, message, sender, how)]
    order = []
    scens = sorted(d for d in os.listdir(work) if os.path.isfile(os.path.join(work, d, 'capture.pcapng')))
    for si, scen in enumerate(scens):
        d = os.path.join(work, scen)
        pcap = os.path.join(d, 'capture.pcapng')
        ports = [int(p) for p in open(os.path.join(d, 'ports')).read().split()]
        steps = [(float(t), s) for t, s in read_tsv(os.path.join(d, 'steps.tsv'))]
        senders = read_tsv(os.path.join(d, 'senders.tsv'))
        # A scenario may keep only some output groups (see only_groups in the shell part); it then
        # adds nothing to the other files and leaves messages seen in earlier scenarios as they were.
        groups_file = os.path.join(d, 'groups')
        only = set(open(groups_file).read().split()) if os.path.isfile(groups_file) else None
        bad = problem_frames(pcap, ports)
        if bad:
            die(f'{pcap}: tshark reports malformed/expert problems:\n' + '\n'.join(bad.values()))
        view = pdml_bgp(pcap, ports)
        msgs = read_messages(pcap, ports)
        per_frame = {}
        for m in msgs:
            per_frame.setdefault(m['frame'], []).append(m)
        for frame, ms in per_frame.items():
            els = view.get(frame, [])
            if len(els) != len(ms):
                die(f'{pcap} frame {frame}: tshark shows {len(els)} BGP messages, reassembly found {len(ms)}')
            for m, el in zip(ms, els):
                b = m['bytes']
                if int(field(el, 'bgp.type')) != b[18] or int(field(el, 'bgp.length')) != len(b):
                    die(f'{pcap} frame {frame}: tshark type/length differ from the split bytes')
                m['el'] = el
        print(f'{scen}: {len(msgs)} BGP messages, tshark: no malformed/expert problems', file=sys.stderr)
        for m in msgs:
            hx = m['bytes'].hex()
            si_sender, sender = sender_of(m, senders)
            if only is not None:
                if base_name(sender[1], m['bytes'], m['el'])[1] not in only:
                    continue
                if hx in occurrences and occurrences[hx][0][0][0] != si:
                    continue
            how = how_for(m, sender[2], scen, steps)
            if hx not in occurrences:
                occurrences[hx] = []
                order.append(((si, m['frame'], m['end']), hx))
            occurrences[hx].append(((si, si_sender, m['frame']), m, sender, how))
    vectors = {'main': [], 'evpn': []}
    names = set()
    for _, hx in sorted(order):
        occ = sorted(occurrences[hx], key=lambda o: o[0])
        _, m, (source, prefix, _), how = occ[0]
        b = m['bytes']
        name, group = base_name(prefix, b, m['el'])
        if name in names:
            i = 2
            while f'{name}-{i}' in names:
                i += 1
            name = f'{name}-{i}'
        names.add(name)
        notes = notes_for(m['el'], b)
        others = list(dict.fromkeys(f'{o[2][0]} ({o[2][1]})' for o in occ[1:] if o[2][1] != prefix))
        if others:
            notes += f' [identical bytes also sent by {", ".join(others)}]'
        vectors[group].append({'name': name, 'source': source, 'how': how, 'type': TYPES.get(b[18], f'type{b[18]}'),
                               'hex': hx, 'notes': notes})
    os.makedirs(out, exist_ok=True)
    for group, vs in vectors.items():
        with open(os.path.join(out, OUT_FILES[group]), 'w') as fh:
            json.dump(vs, fh, indent=2)
            fh.write('\n')
        print(f'wrote {len(vs)} vectors to {os.path.join(out, OUT_FILES[group])}', file=sys.stderr)


# ----------------------------------------------------------------------------- verify

def csum(data):
    if len(data) % 2:
        data += b'\0'
    s = sum(struct.unpack(f'>{len(data) // 2}H', data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def ipv4_tcp(src, dst, sport, dport, seq, ack, flags, payload):
    tcp = struct.pack('>HHIIBBHHH', sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + payload
    pseudo = struct.pack('>4s4sBBH', src, dst, 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack('>H', csum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack('>BBHHHBBH4s4s', 0x45, 0, 20 + len(tcp), 0, 0x4000, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack('>H', csum(ip)) + ip[12:]
    return ip + tcp


def verify(work, out):
    """Each stored message alone in its own TCP stream (handshake + one segment), decoded by tshark."""
    vs = []
    for f in OUT_FILES.values():
        vs += json.load(open(os.path.join(out, f)))
    pcap = os.path.join(work, 'stored-vectors.pcap')
    src, dst = bytes([127, 0, 9, 200]), bytes([127, 0, 9, 201])
    with open(pcap, 'wb') as fh:
        fh.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 101))   # LINKTYPE_RAW
        t = 0
        for i, v in enumerate(vs):
            b = bytes.fromhex(v['hex'])
            if len(b) != int(v['hex'][32:36], 16) or b[:16] != b'\xff' * 16 or len(b) > 65000:
                die(f'{v["name"]}: hex length {len(b)} does not match its BGP header')
            sport = 20000 + i
            pkts = [ipv4_tcp(src, dst, sport, 179, 1000, 0, 0x02, b''),
                    ipv4_tcp(dst, src, 179, sport, 5000, 1001, 0x12, b''),
                    ipv4_tcp(src, dst, sport, 179, 1001, 5001, 0x10, b''),
                    ipv4_tcp(src, dst, sport, 179, 1001, 5001, 0x18, b)]
            for p in pkts:
                t += 1
                fh.write(struct.pack('<IIII', t, 0, len(p), len(p)) + p)
    bad = problem_frames(pcap, [179])
    if bad:
        die('stored vectors decode with problems:\n' + '\n'.join(bad.values()))
    got = tshark(['-r', pcap, '-Y', 'bgp', '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=,',
                  '-e', 'tcp.srcport', '-e', 'bgp.type', '-e', 'bgp.length']).splitlines()
    seen = {}
    for line in got:
        port, typ, ln = line.split('\t')
        seen[int(port) - 20000] = (typ, ln)
    for i, v in enumerate(vs):
        b = bytes.fromhex(v['hex'])
        if seen.get(i) != (str(b[18]), str(len(b))):
            die(f'{v["name"]}: tshark decoded {seen.get(i)} alone, expected type {b[18]} length {len(b)}')
    names = [v['name'] for v in vs]
    if len(set(names)) != len(names) or len({v['hex'] for v in vs}) != len(vs):
        die('duplicate names or messages')
    print(f'verified {len(vs)} stored vectors: each decodes alone in tshark, no malformed/expert warnings', file=sys.stderr)


if __name__ == '__main__':
    if sys.argv[1] == 'extract':
        extract(*sys.argv[2:6])
    elif sys.argv[1] == 'verify':
        verify(sys.argv[2], sys.argv[3])
    else:
        die('usage: extract WORK OUT FRR_SOURCE GOBGP_SOURCE | verify WORK OUT')
PYEOF
}

if [ "${1:-}" = "--verify" ]; then
  mkdir -p "$WORK"; write_python
  exec python3 "$PY" verify "$WORK" "$OUT"
fi

[ "$(id -u)" = 0 ] || { echo "run as root (tshark capture on lo, bgpd -S, port 179)" >&2; exit 1; }
for b in "$FRR_BIN/bgpd" vtysh gobgpd gobgp tshark python3 unshare; do
  command -v "$b" >/dev/null || { echo "missing $b" >&2; exit 1; }
done

rm -rf "$WORK"; mkdir -p "$WORK" "$OUT"
write_python

SCEN=""          # current scenario name
declare -A DIR   # daemon name -> work dir
declare -A ADDR  # daemon name -> API/vty address
DAEMON_PIDS=()
TSHARK_PID=""

log() { printf '%s\n' "$*" >&2; }

# step DESCRIPTION: timestamped line in steps.tsv. A message's "how" names the latest earlier step
# that mentions its route, else the latest earlier step (see how_for in the python).
step() {
  printf '%s\t%s\n' "$(date +%s.%N)" "$1" >>"$WORK/$SCEN/steps.tsv"
  log "[$SCEN] $1"
}

# sender ADDR[/OWN_PORT/PEER_PORT] SOURCE NAME_PREFIX HOW: labels for messages sent from ADDR. The
# ports tell the two daemons apart when both use ::1: a message is theirs if it leaves OWN_PORT or
# goes to PEER_PORT.
sender() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$WORK/$SCEN/senders.tsv"; }

scenario() {
  SCEN=$1; mkdir -p "$WORK/$SCEN"; : >"$WORK/$SCEN/steps.tsv"; : >"$WORK/$SCEN/senders.tsv"
  printf '%s\n' "$2" >"$WORK/$SCEN/ports"
}

# only_groups GROUP...: this scenario contributes only to these output groups ('main', 'evpn'), and
# only messages no earlier scenario sent, so adding it leaves every existing vector as it was.
only_groups() { printf '%s\n' "$@" >"$WORK/$SCEN/groups"; }

capture_start() {   # BPF
  local f="$WORK/$SCEN/capture.pcapng" err="$WORK/$SCEN/tshark.err"
  tshark -i lo -f "$1" -w "$f" -q 2>"$err" &
  TSHARK_PID=$!
  for _ in $(seq 1 100); do
    grep -q 'Capturing on' "$err" 2>/dev/null && [ -s "$f" ] && return 0
    kill -0 "$TSHARK_PID" 2>/dev/null || { cat "$err" >&2; return 1; }
    sleep 0.1
  done
  echo "tshark did not start" >&2; return 1
}

capture_stop() {
  [ -n "$TSHARK_PID" ] || return 0
  sleep 0.5                       # let the last segments reach the capture
  kill -INT "$TSHARK_PID" 2>/dev/null || true
  wait "$TSHARK_PID" 2>/dev/null || true
  TSHARK_PID=""
}

# frr_start NAME ADDR PORT < bgpd.conf
frr_start() {
  local name=$1 addr=$2 port=$3 d="$WORK/$SCEN/$1"
  mkdir -p "$d"; cat >"$d/bgpd.conf"
  DIR[$name]=$d; ADDR[$name]=$addr
  # -Z no zebra; -l ADDR only (implies -n); -P 0 no vty TCP port (2605 would clash); -S stay root
  "$FRR_BIN/bgpd" -d -Z -S -l "$addr" -p "$port" -P 0 -i "$d/bgpd.pid" \
    --vty_socket "$d" -f "$d/bgpd.conf" --log "file:$d/bgpd.log"
  for _ in $(seq 1 50); do [ -S "$d/bgpd.vty" ] && [ -s "$d/bgpd.pid" ] && break; sleep 0.1; done
  DAEMON_PIDS+=("$(cat "$d/bgpd.pid")")
}
vty() { local name=$1; shift; local a=(); for c in "$@"; do a+=(-c "$c"); done; vtysh --vty_socket "${DIR[$name]}" "${a[@]}"; }

# gobgpd_start NAME API_ADDR HOSTNAME < gobgpd.toml
gobgpd_start() {
  local name=$1 api=$2 host=$3 d="$WORK/$SCEN/$1"
  mkdir -p "$d"; cat >"$d/gobgpd.toml"
  DIR[$name]=$d; ADDR[$name]=$api
  # Own UTS namespace: gobgpd puts the OS hostname into its FQDN capability.
  unshare --uts sh -c 'hostname "$1"; shift; exec "$@"' sh "$host" \
    gobgpd -f "$d/gobgpd.toml" -t toml -p --api-hosts "$api:50051" --pprof-disable >"$d/gobgpd.log" 2>&1 &
  DAEMON_PIDS+=("$!")
  for _ in $(seq 1 50); do gobgp -u "$api" global >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "gobgpd $name did not start" >&2; cat "$d/gobgpd.log" >&2; return 1
}
gcli() { local name=$1; shift; gobgp -u "${ADDR[$name]}" "$@"; }

# wait_frr NAME PEER [STATE] [SECONDS]
wait_frr() {
  local want=${3:-Established}
  for _ in $(seq 1 $((${4:-20} * 5))); do
    vty "$1" "show bgp neighbors $2 json" | grep -q "\"bgpState\":\"$want\"" && return 0; sleep 0.2
  done
  echo "[$SCEN] $1: peer $2 not $want" >&2; vty "$1" "show bgp neighbors $2" >&2 || true; return 1
}

# daemonized bgpd is reparented to PID 1, which may leave it a zombie: that counts as gone
gone() { ! kill -0 "$1" 2>/dev/null || [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ]; }

# Stops daemons one at a time in start order: killing both at once made it a race which side
# sent which Cease subcode, so reruns produced different NOTIFICATION vectors.
stop_daemons() {
  local p
  for p in "${DAEMON_PIDS[@]}"; do
    kill "$p" 2>/dev/null || true
    for _ in $(seq 1 50); do gone "$p" && break; sleep 0.1; done
    gone "$p" || kill -9 "$p" 2>/dev/null || true
    sleep 0.3    # let the peer react (its NOTIFICATION or TCP close) before the next one goes
  done
  DAEMON_PIDS=()
}

# end_scenario DESCRIPTION: stop daemons while still capturing (their Cease NOTIFICATIONs are vectors too).
end_scenario() {
  step "${1:-stop daemons (SIGTERM)}"
  stop_daemons
  capture_stop
}

# run_step CMD...: log it as a step, run it, give the daemons time to send what it causes.
run_step() {
  local desc c
  case $1 in
    gcli) desc="gobgp -u ${ADDR[$2]} ${*:3}" ;;
    vty) desc="vtysh (FRR ${ADDR[$2]})"; for c in "${@:3}"; do desc+=" -c '$c'"; done ;;
    *) desc="$*" ;;
  esac
  step "$desc"; "$@"; sleep 1.5
}

cleanup() { stop_daemons; capture_stop; }
trap cleanup EXIT

# ---------------------------------------------------------------------------------------------
# S1: iBGP FRR <-> GoBGP; multiprotocol (ipv4/ipv6 unicast, ipv4/ipv6 vpn, evpn), graceful
#     restart, add-path tx, extended next hop; attribute-rich UPDATEs both ways; EVPN 2/3/5 and
#     VPN routes from GoBGP; withdrawals; route refresh; Cease/Administrative Shutdown + message.
scenario s1-ibgp 179
F=$NET.1 G=$NET.2
capture_start "tcp port 179 and host $F and host $G"
sender "$F" "$FRR_VERSION" frr-ibgp "FRR bgpd AS 65000, iBGP to GoBGP $G; address-families ipv4 unicast, ipv6 unicast, ipv4 vpn, ipv6 vpn, l2vpn evpn; bgp graceful-restart; neighbor addpath-tx-all-paths (ipv4 unicast); neighbor capability extended-nexthop; hostname frr-ibgp; networks: ipv4 'network 10.55.0.0/24 route-map ATTRS' (set community 65000:100 65000:200 no-export, set large-community 65000:1:2, set extcommunity rt 65000:7, set metric 50, set local-preference 250, set origin egp, set as-path prepend 65100 65200), ipv6 'network 2001:db8:55::/48', ipv4 vpn 'network 10.9.0.0/24 rd 65000:9 label 99', l2vpn evpn 'network 10.30.0.0/24 rd $F:5000 ethtag 0 label 5000 esi 0 gwip 0.0.0.0 routermac 52:54:00:00:00:02'; route-map out NH4 'set ip next-hop 10.0.0.1' (ipv4 unicast), NH6 'set ipv6 next-hop global 2001:db8::1' + 'set ipv6 next-hop local fe80::1' (ipv6 unicast)"
sender "$G" "$GOBGP_VERSION" gobgp-ibgp "gobgpd AS 65000, iBGP to FRR $F; afi-safis ipv4-unicast, ipv6-unicast, l3vpn-ipv4-unicast, l3vpn-ipv6-unicast, l2vpn-evpn; [neighbors.graceful-restart.config] enabled = true (+ mp-graceful-restart for ipv4/ipv6 unicast); hostname gobgp-ibgp"
step "start FRR and gobgpd; session comes up"
frr_start frr1 "$F" 179 <<CONF
hostname frr-ibgp
router bgp 65000
 bgp router-id $F
 no bgp default ipv4-unicast
 no bgp ebgp-requires-policy
 no bgp network import-check
 bgp graceful-restart
 bgp log-neighbor-changes
 neighbor $G remote-as 65000
 neighbor $G update-source $F
 neighbor $G timers connect 1
 neighbor $G capability extended-nexthop
 address-family ipv4 unicast
  network 10.55.0.0/24 route-map ATTRS
  neighbor $G activate
  neighbor $G addpath-tx-all-paths
  neighbor $G route-map NH4 out
 exit-address-family
 address-family ipv6 unicast
  network 2001:db8:55::/48
  neighbor $G activate
  neighbor $G route-map NH6 out
 exit-address-family
 address-family ipv4 vpn
  network 10.9.0.0/24 rd 65000:9 label 99
  neighbor $G activate
 exit-address-family
 address-family ipv6 vpn
  neighbor $G activate
 exit-address-family
 address-family l2vpn evpn
  network 10.30.0.0/24 rd $F:5000 ethtag 0 label 5000 esi 00:00:00:00:00:00:00:00:00:00 gwip 0.0.0.0 routermac 52:54:00:00:00:02
  neighbor $G activate
 exit-address-family
exit
route-map ATTRS permit 10
 set community 65000:100 65000:200 no-export
 set large-community 65000:1:2
 set extcommunity rt 65000:7
 set metric 50
 set local-preference 250
 set origin egp
 set as-path prepend 65100 65200
exit
route-map NH4 permit 10
 set ip next-hop 10.0.0.1
exit
route-map NH6 permit 10
 set ipv6 next-hop global 2001:db8::1
 set ipv6 next-hop local fe80::1
exit
CONF
gobgpd_start gobgp1 "$G" gobgp-ibgp <<TOML
[global.config]
  as = 65000
  router-id = "$G"
  port = 179
  local-address-list = ["$G"]
[[neighbors]]
  [neighbors.config]
    neighbor-address = "$F"
    peer-as = 65000
  [neighbors.transport.config]
    local-address = "$G"
  [neighbors.timers.config]
    connect-retry = 1
  [neighbors.graceful-restart.config]
    enabled = true
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
    [neighbors.afi-safis.mp-graceful-restart.config]
      enabled = true
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv6-unicast"
    [neighbors.afi-safis.mp-graceful-restart.config]
      enabled = true
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "l3vpn-ipv4-unicast"
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "l3vpn-ipv6-unicast"
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "l2vpn-evpn"
TOML
wait_frr frr1 "$G"
sleep 3
run_step gcli gobgp1 global rib add 10.66.0.0/24 nexthop 10.0.0.2 med 10 local-pref 200 community 65000:1 large-community 65000:1:2 aspath 65001,65002 origin egp
run_step gcli gobgp1 global rib add 10.67.0.0/24 nexthop 10.0.0.2 rt 65000:67 aggregator 65001:10.0.0.9
run_step gcli gobgp1 global rib add -a ipv6 2001:db8:66::/48 nexthop 2001:db8::2
run_step gcli gobgp1 global rib add -a evpn macadv 52:54:00:aa:bb:01 10.1.1.10 etag 0 label 10100 rd $G:100 rt 65000:100 encap vxlan nexthop 10.0.0.2
run_step gcli gobgp1 global rib add -a evpn macadv 52:54:00:aa:bb:02 0.0.0.0 etag 0 label 10100 rd $G:100 rt 65000:100 encap vxlan nexthop 10.0.0.2
run_step gcli gobgp1 global rib add -a evpn multicast 10.0.0.2 etag 0 rd $G:100 rt 65000:100 encap vxlan pmsi ingress-repl 10100 10.0.0.2 nexthop 10.0.0.2
run_step gcli gobgp1 global rib add -a evpn prefix 10.20.0.0/24 gw 0.0.0.0 etag 0 label 50000 rd $G:5000 rt 65000:5000 encap vxlan router-mac 52:54:00:00:00:01 nexthop 10.0.0.2
run_step gcli gobgp1 global rib add -a vpnv4 192.168.10.0/24 label 100 rd 65000:10 rt 65000:10 nexthop 10.0.0.2
run_step gcli gobgp1 global rib add -a vpnv6 2001:db8:10::/48 label 101 rd 65000:10 rt 65000:10 nexthop 2001:db8::2
run_step gcli gobgp1 global rib del 10.66.0.0/24
run_step gcli gobgp1 global rib del -a ipv6 2001:db8:66::/48
run_step gcli gobgp1 global rib del -a evpn macadv 52:54:00:aa:bb:01 10.1.1.10 etag 0 label 10100 rd $G:100
run_step gcli gobgp1 global rib del -a vpnv4 192.168.10.0/24 label 100 rd 65000:10
run_step vty frr1 "configure terminal" "router bgp 65000" "address-family ipv6 unicast" "no network 2001:db8:55::/48"
run_step vty frr1 "configure terminal" "router bgp 65000" "address-family ipv4 unicast" "no network 10.55.0.0/24 route-map ATTRS"
run_step vty frr1 "clear bgp ipv4 unicast $G soft in"
run_step vty frr1 "configure terminal" "router bgp 65000" "neighbor $G shutdown message vmmi test vector: planned maintenance"
end_scenario


# ---------------------------------------------------------------------------------------------
# S2: eBGP FRR AS 65001 <-> GoBGP AS 4200000001 (> 65535: OPEN My AS = AS_TRANS 23456).
#     FRR aggregate-address summary-only -> ATOMIC_AGGREGATE + AGGREGATOR; GoBGP add-path
#     send (path identifiers), 4-octet AS_PATH; GoBGP admin shutdown with a reason.
scenario s2-ebgp 179
F=$NET.3 G=$NET.4
capture_start "tcp port 179 and host $F and host $G"
sender "$F" "$FRR_VERSION" frr-ebgp "FRR bgpd AS 65001, eBGP to GoBGP $G (remote-as 4200000001); address-families ipv4 unicast, ipv6 unicast; networks 10.77.1.0/24, 10.77.2.0/24 + aggregate-address 10.77.0.0/16 summary-only, 2001:db8:77::/48; hostname frr-ebgp; route-map out 'set ip next-hop 10.0.0.3' / 'set ipv6 next-hop global 2001:db8::3'"
sender "$G" "$GOBGP_VERSION" gobgp-ebgp "gobgpd AS 4200000001, eBGP to FRR $F (peer-as 65001); afi-safis ipv4-unicast (add-paths send-max 4, receive true), ipv6-unicast; hostname gobgp-ebgp"
step "start FRR and gobgpd; session comes up"
frr_start frr2 "$F" 179 <<CONF
hostname frr-ebgp
router bgp 65001
 bgp router-id $F
 no bgp default ipv4-unicast
 no bgp ebgp-requires-policy
 no bgp network import-check
 bgp log-neighbor-changes
 neighbor $G remote-as 4200000001
 neighbor $G update-source $F
 neighbor $G timers connect 1
 address-family ipv4 unicast
  network 10.77.1.0/24
  network 10.77.2.0/24
  aggregate-address 10.77.0.0/16 summary-only
  neighbor $G activate
  neighbor $G route-map NH4 out
 exit-address-family
 address-family ipv6 unicast
  network 2001:db8:77::/48
  neighbor $G activate
  neighbor $G route-map NH6 out
 exit-address-family
exit
route-map NH4 permit 10
 set ip next-hop 10.0.0.3
exit
route-map NH6 permit 10
 set ipv6 next-hop global 2001:db8::3
exit
CONF
gobgpd_start gobgp2 "$G" gobgp-ebgp <<TOML
[global.config]
  as = 4200000001
  router-id = "$G"
  port = 179
  local-address-list = ["$G"]
[[neighbors]]
  [neighbors.config]
    neighbor-address = "$F"
    peer-as = 65001
  [neighbors.transport.config]
    local-address = "$G"
  [neighbors.timers.config]
    connect-retry = 1
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
    [neighbors.afi-safis.add-paths.config]
      receive = true
      send-max = 4
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv6-unicast"
TOML
wait_frr frr2 "$G"
sleep 3
run_step gcli gobgp2 global rib add 10.88.0.0/24 identifier 1 nexthop 10.0.0.4 aspath 4200000099 community 65000:88
run_step gcli gobgp2 global rib add 10.88.0.0/24 identifier 2 nexthop 10.0.0.5 aspath 4200000098,65003
run_step gcli gobgp2 global rib add -a ipv6 2001:db8:88::/48 nexthop 2001:db8::4 med 5
run_step gcli gobgp2 global rib del 10.88.0.0/24 identifier 2
# 'shutdown' is deprecated in favour of 'disable', but in 3.10 only 'shutdown' puts --reason
# into the NOTIFICATION (disable --reason sent a Cease/2 without a communication field).
run_step gcli gobgp2 neighbor "$F" shutdown --reason "gobgp vector: planned maintenance"
end_scenario

# ---------------------------------------------------------------------------------------------
# S3: a 2-octet-AS peer. FRR with 'dont-capability-negotiate' sends an OPEN without any
#     capability, so AS4 is not negotiated: both sides then encode 4-octet ASNs as AS_TRANS in
#     AS_PATH and carry the real path in AS4_PATH (RFC 6793).
scenario s3-as2 179
F=$NET.5 G=$NET.6
capture_start "tcp port 179 and host $F and host $G"
sender "$F" "$FRR_VERSION" frr-as2 "FRR bgpd AS 65010, eBGP to GoBGP $G with 'neighbor $G dont-capability-negotiate' (OPEN without capabilities = 2-octet-AS speaker); network 10.89.0.0/24 route-map 'set as-path prepend 4200000010', 'set ip next-hop 10.0.0.5'"
sender "$G" "$GOBGP_VERSION" gobgp-to-as2 "gobgpd AS 65020, eBGP to FRR $F, which sent no capabilities (so no 4-octet AS); afi-safis ipv4-unicast; hostname gobgp-as2"
step "start FRR and gobgpd; session comes up"
frr_start frr3 "$F" 179 <<CONF
hostname frr-as2
router bgp 65010
 bgp router-id $F
 no bgp default ipv4-unicast
 no bgp ebgp-requires-policy
 no bgp network import-check
 bgp log-neighbor-changes
 neighbor $G remote-as 65020
 neighbor $G update-source $F
 neighbor $G timers connect 1
 neighbor $G dont-capability-negotiate
 address-family ipv4 unicast
  network 10.89.0.0/24 route-map AS4
  neighbor $G activate
  neighbor $G route-map NH4 out
 exit-address-family
exit
route-map AS4 permit 10
 set as-path prepend 4200000010
exit
route-map NH4 permit 10
 set ip next-hop 10.0.0.5
exit
CONF
gobgpd_start gobgp3 "$G" gobgp-as2 <<TOML
[global.config]
  as = 65020
  router-id = "$G"
  port = 179
  local-address-list = ["$G"]
[[neighbors]]
  [neighbors.config]
    neighbor-address = "$F"
    peer-as = 65010
  [neighbors.transport.config]
    local-address = "$G"
  [neighbors.timers.config]
    connect-retry = 1
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
TOML
wait_frr frr3 "$G"
sleep 3
run_step gcli gobgp3 global rib add 10.90.0.0/24 nexthop 10.0.0.6 aspath 4200000020,65030
vty frr3 "show bgp ipv4 unicast 10.90.0.0/24" >"$WORK/$SCEN/frr3-10.90.0.0.txt"   # FRR's view of the AS4 path
end_scenario

# ---------------------------------------------------------------------------------------------
# S4: FRR <-> FRR iBGP, AS 4200000100 (OPEN My AS = AS_TRANS). Enhanced route refresh:
#     'clear ... soft in' on B sends ROUTE-REFRESH, A answers BoRR, UPDATEs, EoRR. A sends
#     add-path NLRI (addpath-tx-all-paths) and an add-path withdraw.
scenario s4-frr-frr 179
A=$NET.7 B=$NET.8
capture_start "tcp port 179 and host $A and host $B"
sender "$A" "$FRR_VERSION" frr-a "FRR bgpd A AS 4200000100, iBGP to FRR B $B; ipv4 unicast; neighbor addpath-tx-all-paths; networks 10.44.0.0/24, 10.44.1.0/24; route-map out 'set ip next-hop 10.0.0.7'; hostname frr-a"
sender "$B" "$FRR_VERSION" frr-b "FRR bgpd B AS 4200000100, iBGP to FRR A $A; ipv4 unicast; network 10.45.0.0/24; route-map out 'set ip next-hop 10.0.0.8'; hostname frr-b"
step "start both FRR; session comes up"
for side in a b; do
  if [ $side = a ]; then me=$A peer=$B nets="  network 10.44.0.0/24
  network 10.44.1.0/24
  neighbor $B addpath-tx-all-paths" nh=10.0.0.7
  else me=$B peer=$A nets="  network 10.45.0.0/24" nh=10.0.0.8; fi
  frr_start "frr4$side" "$me" 179 <<CONF
hostname frr-$side
router bgp 4200000100
 bgp router-id $me
 no bgp default ipv4-unicast
 no bgp ebgp-requires-policy
 no bgp network import-check
 bgp log-neighbor-changes
 neighbor $peer remote-as internal
 neighbor $peer update-source $me
 neighbor $peer timers connect 1
 address-family ipv4 unicast
$nets
  neighbor $peer activate
  neighbor $peer route-map NH4 out
 exit-address-family
exit
route-map NH4 permit 10
 set ip next-hop $nh
exit
CONF
done
wait_frr frr4a "$B"
sleep 3
run_step vty frr4b "clear bgp ipv4 unicast $A soft in"
run_step vty frr4a "configure terminal" "router bgp 4200000100" "address-family ipv4 unicast" "no network 10.44.1.0/24"
end_scenario

# ---------------------------------------------------------------------------------------------
# S5: hold timer expiry both ways (hold 3 s): SIGSTOP one daemon, the other sends
#     NOTIFICATION Hold Timer Expired; SIGCONT and let the session come back.
scenario s5-hold 179
F=$NET.9 G=$NET.10
capture_start "tcp port 179 and host $F and host $G"
sender "$F" "$FRR_VERSION" frr-hold "FRR bgpd AS 65000, iBGP to GoBGP $G; ipv4 unicast; neighbor $G timers 1 3; hostname frr-hold"
sender "$G" "$GOBGP_VERSION" gobgp-hold "gobgpd AS 65000, iBGP to FRR $F; ipv4-unicast; [neighbors.timers.config] hold-time = 3, keepalive-interval = 1; hostname gobgp-hold"
step "start FRR and gobgpd; session comes up"
frr_start frr5 "$F" 179 <<CONF
hostname frr-hold
router bgp 65000
 bgp router-id $F
 no bgp default ipv4-unicast
 no bgp network import-check
 bgp log-neighbor-changes
 neighbor $G remote-as 65000
 neighbor $G update-source $F
 neighbor $G timers 1 3
 neighbor $G timers connect 1
 address-family ipv4 unicast
  neighbor $G activate
 exit-address-family
exit
CONF
gobgpd_start gobgp5 "$G" gobgp-hold <<TOML
[global.config]
  as = 65000
  router-id = "$G"
  port = 179
  local-address-list = ["$G"]
[[neighbors]]
  [neighbors.config]
    neighbor-address = "$F"
    peer-as = 65000
  [neighbors.transport.config]
    local-address = "$G"
  [neighbors.timers.config]
    connect-retry = 1
    hold-time = 3
    keepalive-interval = 1
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
TOML
wait_frr frr5 "$G"
sleep 2
frr_pid=$(cat "${DIR[frr5]}/bgpd.pid")
step "kill -STOP bgpd (FRR): GoBGP's hold timer (3 s) expires"
kill -STOP "$frr_pid"; sleep 5; kill -CONT "$frr_pid"
wait_frr frr5 "$G" Established 30
sleep 2
gobgp_pid=${DAEMON_PIDS[-1]}
step "kill -STOP gobgpd: FRR's hold timer (3 s) expires"
kill -STOP "$gobgp_pid"; sleep 5; kill -CONT "$gobgp_pid"
sleep 2
end_scenario

# ---------------------------------------------------------------------------------------------
# S6: IPv6 transport over ::1 (the only IPv6 loopback address, so the daemons differ by port:
#     FRR listens on [::1]:1791, gobgpd on [::1]:1792). MP_REACH next hops are then IPv6 by
#     default; with extended-nexthop (RFC 8950) negotiated, FRR sends IPv4 NLRI with an IPv6
#     next hop.
scenario s6-ipv6 "1791 1792"
capture_start "tcp and (port 1791 or port 1792) and host ::1"
sender "::1/1791/1792" "$FRR_VERSION" frr-v6 "FRR bgpd -l ::1 -p 1791, AS 65000, iBGP to gobgpd [::1]:1792 (neighbor ::1 port 1792 update-source ::1); ipv6 unicast network 2001:db8:56::/48 and ipv4 unicast network 10.56.0.0/24 without next-hop route-maps; neighbor capability extended-nexthop; hostname frr-v6"
sender "::1/1792/1791" "$GOBGP_VERSION" gobgp-v6 "gobgpd port 1792, local-address-list [::1], AS 65000, iBGP to FRR [::1]:1791 (remote-port 1791); afi-safis ipv4-unicast, ipv6-unicast; hostname gobgp-v6"
step "start FRR and gobgpd on ::1; session comes up"
frr_start frr6 ::1 1791 <<CONF
hostname frr-v6
router bgp 65000
 bgp router-id $NET.11
 no bgp default ipv4-unicast
 no bgp network import-check
 bgp log-neighbor-changes
 neighbor ::1 remote-as 65000
 neighbor ::1 port 1792
 neighbor ::1 update-source ::1
 neighbor ::1 timers connect 1
 neighbor ::1 capability extended-nexthop
 address-family ipv4 unicast
  network 10.56.0.0/24
  neighbor ::1 activate
 exit-address-family
 address-family ipv6 unicast
  network 2001:db8:56::/48
  neighbor ::1 activate
 exit-address-family
exit
CONF
gobgpd_start gobgp6 "$NET.12" gobgp-v6 <<TOML
[global.config]
  as = 65000
  router-id = "$NET.12"
  port = 1792
  local-address-list = ["::1"]
[[neighbors]]
  [neighbors.config]
    neighbor-address = "::1"
    peer-as = 65000
  [neighbors.transport.config]
    local-address = "::1"
    remote-port = 1791
  [neighbors.timers.config]
    connect-retry = 1
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv6-unicast"
TOML
wait_frr frr6 ::1
sleep 3
run_step gcli gobgp6 global rib add -a ipv6 2001:db8:57::/48 nexthop 2001:db8::12
run_step gcli gobgp6 global rib add 10.57.0.0/24 nexthop 10.0.0.12
end_scenario

# ---------------------------------------------------------------------------------------------
# S7: EVPN route types and extended communities that S1 does not produce. FRR 127.0.9.13 is a
#     route reflector for two GoBGP clients (127.0.9.14 = A, 127.0.9.15 = B), so every route
#     is captured twice: as GoBGP encodes it, and as FRR reflects it (ORIGINATOR_ID, CLUSTER_LIST).
#     Types 1 and 4, ESI types 0-3 and 5, IPv6 MAC/IP, MAC/IP and MAC-only with two labels, IPv6
#     type 5 (16-byte next hop, gateway IP), route targets of all three kinds, RD types 0/1/2, ESI
#     label, ES-Import RT, Router's MAC, Default Gateway, encap MPLS, withdrawals of types 1/4/5, and
#     MAC Mobility: B announcing a MAC that A announced gets MM:0 from GoBGP, A announcing it again
#     gets MM:1. Only l2vpn-evpn UPDATEs not already in S1 are kept (only_groups).
#     FRR 8.4 resets the session on an IPv6 originator in a type 4 route ("Rx EVPN Type-4 NLRI with
#     invalid length 35") and on an IPv6 ingress-replication endpoint in PMSI_TUNNEL ("Bad PMSI
#     tunnel attribute length 21 for IR"), both valid (RFC 7432 §7.4, RFC 6514 §5): S8 has those.
scenario s7-evpn 179
only_groups evpn
F=$NET.13 A=$NET.14 B=$NET.15
capture_start "tcp port 179 and host $F and (host $A or host $B)"
sender "$F" "$FRR_VERSION" frr-evpn-rr "FRR bgpd AS 65000, route reflector (bgp cluster-id $F) for GoBGP $A and $B (route-reflector-client); address-family l2vpn evpn only; no zebra; hostname frr-evpn-rr"
sender "$A" "$GOBGP_VERSION" gobgp-evpn-a "gobgpd AS 65000, iBGP client of the FRR route reflector $F; afi-safis l2vpn-evpn; hostname gobgp-evpn-a"
sender "$B" "$GOBGP_VERSION" gobgp-evpn-b "gobgpd AS 65000, iBGP client of the FRR route reflector $F; afi-safis l2vpn-evpn; hostname gobgp-evpn-b"
step "start FRR and two gobgpd; sessions come up"
frr_start frr7 "$F" 179 <<CONF
hostname frr-evpn-rr
router bgp 65000
 bgp router-id $F
 bgp cluster-id $F
 no bgp default ipv4-unicast
 no bgp network import-check
 bgp log-neighbor-changes
 neighbor $A remote-as 65000
 neighbor $A update-source $F
 neighbor $A timers connect 1
 neighbor $B remote-as 65000
 neighbor $B update-source $F
 neighbor $B timers connect 1
 address-family l2vpn evpn
  neighbor $A activate
  neighbor $A route-reflector-client
  neighbor $B activate
  neighbor $B route-reflector-client
 exit-address-family
exit
CONF
for side in a b; do
  if [ $side = a ]; then me=$A; else me=$B; fi
  gobgpd_start "gobgp7$side" "$me" "gobgp-evpn-$side" <<TOML
[global.config]
  as = 65000
  router-id = "$me"
  port = 179
  local-address-list = ["$me"]
[[neighbors]]
  [neighbors.config]
    neighbor-address = "$F"
    peer-as = 65000
  [neighbors.transport.config]
    local-address = "$me"
  [neighbors.timers.config]
    connect-retry = 1
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "l2vpn-evpn"
TOML
done
wait_frr frr7 "$A"
wait_frr frr7 "$B"
sleep 3
# Type 1 with ESI types 1 (LACP), 2 (MSTP/bridge), 0 (arbitrary); RD types 1, 0, 2; RT IPv4 and 4-octet AS
# (GoBGP reads 4-octet ASNs in asdot: 64086.59904 = 4200000000); ESI label (all-active; the 3.10
# CLI cannot set single-active); encap MPLS.
run_step gcli gobgp7a global rib add -a evpn a-d esi LACP aa:bb:cc:dd:ee:ff 100 etag 201 label 300 rd $A:201 rt 65000:201 encap vxlan esi-label 400 nexthop 10.0.0.14
run_step gcli gobgp7a global rib add -a evpn a-d esi MSTP aa:bb:cc:dd:ee:01 32768 etag 202 label 16000 rd 65000:202 rt 10.0.0.14:202 encap mpls nexthop 10.0.0.14
run_step gcli gobgp7a global rib add -a evpn a-d esi ARBITRARY 11:22:33:44:55:66:77:88:99 etag 203 label 0 rd 64086.59904:203 rt 64086.59904:203 nexthop 10.0.0.14
# Type 4 with ESI type 3: GoBGP derives the ES-Import RT from its MAC.
run_step gcli gobgp7a global rib add -a evpn esi 10.0.0.14 esi MAC aa:bb:cc:dd:ee:02 100 rd $A:4 rt 65000:204 encap vxlan nexthop 10.0.0.14
# Type 2: two labels (L2 VNI 10100, L3 VNI 50000) + Router's MAC; IPv6 with Default Gateway and ESI
# type 5 (AS); MAC-only with two labels. The positional '<etag> <label>' form is used because
# default-gateway is not a keyword of the 3.10 CLI's parser and only passes there.
run_step gcli gobgp7a global rib add -a evpn macadv 52:54:00:aa:bb:03 10.1.1.30 0 10100,50000 rd $A:100 rt 65000:100 encap vxlan router-mac 52:54:00:00:00:14 nexthop 10.0.0.14
run_step gcli gobgp7a global rib add -a evpn macadv 52:54:00:aa:bb:04 2001:db8:1::40 0 10100 default-gateway esi AS 65000 100 rd $A:100 rt 65000:100 encap vxlan nexthop 10.0.0.14
run_step gcli gobgp7a global rib add -a evpn macadv 52:54:00:aa:bb:05 0.0.0.0 0 10100,50000 rd $A:100 rt 65000:100 encap vxlan nexthop 10.0.0.14
# IPv6 type 5 (58 octets) with a gateway IP and a 16-byte next hop.
run_step gcli gobgp7a global rib add -a evpn prefix 2001:db8:20::/64 gw 2001:db8::1 etag 0 label 50000 rd $A:5000 rt 65000:5000 encap vxlan router-mac 52:54:00:00:00:14 nexthop 2001:db8::14
# MAC Mobility: B announces A's MAC (GoBGP adds MM:0, one above A's implicit -1), then A again (MM:1).
run_step gcli gobgp7b global rib add -a evpn macadv 52:54:00:aa:bb:03 10.1.1.30 0 10100 rd $B:100 rt 65000:100 encap vxlan nexthop 10.0.0.15
run_step gcli gobgp7a global rib add -a evpn macadv 52:54:00:aa:bb:03 10.1.1.30 0 10100,50000 rd $A:100 rt 65000:100 encap vxlan router-mac 52:54:00:00:00:14 nexthop 10.0.0.14
# Withdrawals of types 1, 4 and IPv6 type 5.
run_step gcli gobgp7a global rib del -a evpn a-d esi LACP aa:bb:cc:dd:ee:ff 100 etag 201 label 300 rd $A:201
run_step gcli gobgp7a global rib del -a evpn esi 10.0.0.14 esi MAC aa:bb:cc:dd:ee:02 100 rd $A:4
run_step gcli gobgp7a global rib del -a evpn prefix 2001:db8:20::/64 gw 2001:db8::1 etag 0 label 50000 rd $A:5000
end_scenario

# ---------------------------------------------------------------------------------------------
# S8: GoBGP <-> GoBGP for the EVPN routes FRR 8.4 refuses (see S7): a type 4 route with an IPv6
#     originating router (and ESI type 4), and a type 3 route with an IPv6 PMSI ingress-replication
#     endpoint.
scenario s8-evpn-gobgp 179
only_groups evpn
C=$NET.16 D=$NET.17
capture_start "tcp port 179 and host $C and host $D"
sender "$C" "$GOBGP_VERSION" gobgp-evpn-c "gobgpd AS 65000, iBGP to gobgpd $D; afi-safis l2vpn-evpn; hostname gobgp-evpn-c"
sender "$D" "$GOBGP_VERSION" gobgp-evpn-d "gobgpd AS 65000, iBGP to gobgpd $C; afi-safis l2vpn-evpn; hostname gobgp-evpn-d"
step "start two gobgpd; session comes up"
for side in c d; do
  if [ $side = c ]; then me=$C peer=$D; else me=$D peer=$C; fi
  gobgpd_start "gobgp8$side" "$me" "gobgp-evpn-$side" <<TOML
[global.config]
  as = 65000
  router-id = "$me"
  port = 179
  local-address-list = ["$me"]
[[neighbors]]
  [neighbors.config]
    neighbor-address = "$peer"
    peer-as = 65000
  [neighbors.transport.config]
    local-address = "$me"
  [neighbors.timers.config]
    connect-retry = 1
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "l2vpn-evpn"
TOML
done
# GoBGP waits a few seconds (jittered) before its first connection attempt: about 8 s here.
for _ in $(seq 1 150); do
  gcli gobgp8c neighbor "$D" 2>/dev/null | grep -qi 'BGP state = established' && break; sleep 0.2
done
gcli gobgp8c neighbor "$D" | grep -qi 'BGP state = established' || { echo "[$SCEN] gobgpd $C: peer $D not established" >&2; exit 1; }
sleep 2
run_step gcli gobgp8c global rib add -a evpn esi 2001:db8::16 esi ROUTERID 10.0.0.16 5 rd $C:5 nexthop 10.0.0.16
run_step gcli gobgp8c global rib add -a evpn multicast 2001:db8::16 etag 0 rd $C:100 rt 65000:100 encap vxlan pmsi ingress-repl 10100 2001:db8::16 nexthop 2001:db8::16
end_scenario

log "extracting vectors"
python3 "$PY" extract "$WORK" "$OUT" "$FRR_VERSION" "$GOBGP_VERSION"
python3 "$PY" verify "$WORK" "$OUT"

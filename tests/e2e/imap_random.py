#!/usr/bin/env python3
# The engine of tests/e2e/imap_random.sh (run by it, never by run-all.sh):
# random histories of an IMAP (Dovecot) <-> Maildir channel, each from a
# seeded PRNG, checked against an independent model. See the header of
# imap_random.sh for what a history does and what is checked.
#
#   imap_random.py run              every history (environment below)
#   imap_random.py hook SPEC.json   one concurrent action, run by the
#                                   binary's TWINBOX_HOOK_CMD at a step;
#                                   what it did goes to SPEC.json.out
#
# Environment of "run": BIN (the binary), IMAP_PORT, PASSWORD, WORK (a
# directory of its own), SEEDS (the seeds, one per history, blank-
# separated), USERS (as many Dovecot users, made at start and not used
# before), STEPS (steps per history).
import imaplib
import json
import os
import random
import re
import select
import shlex
import signal
import subprocess
import sys
import time

FLAG_LETTER = {'\\Seen': 'S', '\\Flagged': 'F', '\\Answered': 'R',
               '\\Deleted': 'T', '\\Draft': 'D'}
LETTER_FLAG = {v: k for k, v in FLAG_LETTER.items()}
USER_FLAGS = 'FRST'  # what users change: \Flagged \Answered \Seen \Deleted
EXTRA_FOLDERS = ['Work', 'Lists', 'Old', 'Notes']
LATE_FOLDERS = ['Later', 'Projects']


def fl(s):
    """A flag set as the sorted string of its Maildir letters."""
    return ''.join(sorted(set(s)))


def canon(data):
    """Line ends made one form (the canonical form of docs/sync-rules.md,
    with LF for CRLF): an LF with any CRs before it is one line end, CRs
    that end the message are dropped, every other CR stays."""
    return re.sub(rb'\r*\n', b'\n', data).rstrip(b'\r')


def msg_id(data):
    """The local part of a message's Message-ID, or None."""
    head = re.split(rb'\r*\n\r*\n', data, maxsplit=1)[0]
    m = re.search(rb'(?im)^message-id:[ \t]*<([^@>]*)@', head)
    return m.group(1).decode() if m else None


# ---- the server side, through a second IMAP session ---------------------

class Server:
    def __init__(self, port, user, password):
        self.m = imaplib.IMAP4('127.0.0.1', int(port))
        self.m.login(user, password)
        self.selected = None

    def close(self):
        try:
            self.m.logout()
        except Exception:
            pass

    def folders(self):
        typ, data = self.m.list('""', '*')
        out = []
        for d in data:
            if not d:
                continue
            name = d.decode().rsplit(' ', 1)[1]
            m = re.match(r'.*\) "[^"]*" (.*)$', d.decode())
            if m:
                name = m.group(1)
            out.append(name.strip('"'))
        return sorted(out)

    def select(self, box, readonly=False):
        typ, data = self.m.select(box, readonly=readonly)
        if typ != 'OK':
            raise RuntimeError('SELECT %s: %s' % (box, data))
        self.selected = box

    def create(self, box):
        typ, data = self.m.create(box)
        if typ != 'OK':
            raise RuntimeError('CREATE %s: %s' % (box, data))

    def fetch(self, items):
        """[(uid, flags, literal or None)] of the selected mailbox."""
        typ, data = self.m.uid('FETCH', '1:*', items)
        if typ != 'OK':
            raise RuntimeError('FETCH: %s' % data)
        out = []
        i = 0
        while i < len(data):
            d = data[i]
            i += 1
            if d is None:
                continue
            if isinstance(d, tuple):
                head, lit = d
                tail = b''
                if i < len(data) and isinstance(data[i], bytes):
                    tail = data[i]
                    i += 1
                text = head + b' ' + tail
            else:
                text, lit = d, None
            mu = re.search(rb'UID (\d+)', text)
            mf = re.search(rb'FLAGS \(([^)]*)\)', text)
            if not mu:
                continue
            flags = ''
            if mf:
                flags = fl(FLAG_LETTER.get(f, '') for f in
                           mf.group(1).decode().split())
            out.append((int(mu.group(1)), flags, lit))
        return out

    def ids(self):
        """[(uid, flags, id)] of the selected mailbox."""
        return [(u, f, msg_id(h or b'')) for u, f, h in
                self.fetch('(UID FLAGS BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])')]

    def append(self, box, flags, data):
        # imaplib's append() turns every CR and LF into CRLF: the literal
        # is given as it is instead, bare CRs and LFs included.
        self.m.literal = data
        typ, d = self.m._simple_command(
            'APPEND', box, '(%s)' % ' '.join(LETTER_FLAG[c] for c in flags))
        if typ != 'OK':
            raise RuntimeError('APPEND %s: %s' % (box, d))

    def store(self, uid, op, flags):
        typ, d = self.m.uid('STORE', str(uid), op + 'FLAGS.SILENT',
                            '(%s)' % ' '.join(LETTER_FLAG[c] for c in flags))
        if typ != 'OK':
            raise RuntimeError('STORE: %s' % d)

    def uid_expunge(self, uids):
        typ, d = self.m.uid('EXPUNGE', ','.join(str(u) for u in uids))
        if typ != 'OK':
            raise RuntimeError('UID EXPUNGE: %s' % d)

    def move(self, uid, box):
        typ, d = self.m.uid('MOVE', str(uid), box)
        if typ != 'OK':
            raise RuntimeError('UID MOVE: %s' % d)

    def flags_of(self, uid):
        for u, f, _ in self.fetch('(UID FLAGS)'):
            if u == uid:
                return f
        return None


# ---- the Maildir side, as a mail reader works in it ---------------------

def near_dir(near, box):
    return os.path.join(near, box)


def near_folders(near):
    out = []
    for name in sorted(os.listdir(near)):
        if os.path.isdir(os.path.join(near, name, 'cur')):
            out.append(name)
    return out


def near_files(near, box):
    """[(path, flags, uidfield or None)] of a folder's messages."""
    out = []
    d = near_dir(near, box)
    for sub in ('cur', 'new'):
        try:
            names = os.listdir(os.path.join(d, sub))
        except FileNotFoundError:
            continue
        for n in names:
            flags = ''
            if ':2,' in n:
                flags = fl(c for c in n.split(':2,', 1)[1] if c in 'DFPRST')
            m = re.search(r',U=(\d+)', n)
            out.append((os.path.join(d, sub, n), flags,
                        int(m.group(1)) if m else None))
    return sorted(out)


def last_uid(near, box):
    """The last UID a Maildir folder handed out (.uidvalidity)."""
    try:
        with open(os.path.join(near_dir(near, box), '.uidvalidity')) as f:
            return int(f.read().split()[1])
    except (FileNotFoundError, IndexError, ValueError):
        return 0


def read_file(path):
    try:
        with open(path, 'rb') as f:
            return f.read()
    except (FileNotFoundError, IsADirectoryError):
        return None


def near_ids(near, box):
    out = []
    for path, flags, u in near_files(near, box):
        data = read_file(path)
        if data is not None:
            out.append((path, flags, msg_id(data), u))
    return out


def deliver(near, box, name, flags, data, into_cur):
    """A delivery as a Maildir writer does it: tmp/, then a rename."""
    d = near_dir(near, box)
    tmp = os.path.join(d, 'tmp', name)
    with open(tmp, 'wb') as f:
        f.write(data)
    if into_cur:
        os.rename(tmp, os.path.join(d, 'cur', name + ':2,' + flags))
    else:
        os.rename(tmp, os.path.join(d, 'new', name))


def rename_flags(path, flags):
    """A mail reader's flag change: new/ files move to cur/."""
    d, n = os.path.split(path)
    box = os.path.dirname(d)
    base = n.split(':2,', 1)[0]
    os.rename(path, os.path.join(box, 'cur', base + ':2,' + flags))


# ---- actions (in the driver, or in a hook during a run) -----------------

def new_flags(rng, old):
    """A user's flag change: one or two of FRST toggled."""
    s = set(old)
    for c in rng.sample(USER_FLAGS, rng.choice([1, 1, 2])):
        if c == 'T' and rng.random() < 0.5:
            c = rng.choice('SF')
        s ^= {c}
    return fl(s)


def perform(spec, srv=None):
    """Carry out one action; the list of events it made (for the model)."""
    rng = random.Random(spec['rseed'])
    kind = spec['kind']
    box = spec.get('box')
    ev = []
    own = srv is None and kind.startswith('far_')
    if own:
        srv = Server(spec['port'], spec['user'], spec['password'])
    try:
        if kind.startswith('far_') and box not in srv.folders():
            return ev  # made on the near side, not synced yet
        if kind.startswith('near_') and \
                not os.path.isdir(near_dir(spec['near'], box)):
            return ev
        if kind == 'far_append':
            m = spec['msg']
            srv.append(box, m['flags'], bytes.fromhex(m['data']))
            ev.append(['new', 'far', box, m['id'], m['flags']])
        elif kind in ('far_flag', 'far_delete', 'far_move', 'far_expunge'):
            srv.select(box)
            msgs = [x for x in srv.ids() if x[2] is not None]
            if kind == 'far_expunge':
                # A client's expunge of what carries \Deleted (UID
                # EXPUNGE of the messages it saw so, not a plain EXPUNGE:
                # nothing the run marked meanwhile).
                dels = [x for x in msgs if 'T' in x[1]]
                if dels:
                    srv.uid_expunge([x[0] for x in dels])
                    for x in dels:
                        ev.append(['del', 'far', box, x[2]])
                return ev
            if spec.get('target'):
                msgs = [x for x in msgs if x[2] == spec['target']] or msgs
            if not msgs:
                return ev
            uid, flags, mid = rng.choice(msgs)
            if kind == 'far_flag':
                want = new_flags(rng, flags)
                add = fl(set(want) - set(flags))
                rem = fl(set(flags) - set(want))
                if add:
                    srv.store(uid, '+', add)
                if rem:
                    srv.store(uid, '-', rem)
                got = srv.flags_of(uid)
                if got is not None:
                    ev.append(['flags', 'far', box, mid, got])
            elif kind == 'far_delete':
                srv.store(uid, '+', 'T')
                srv.uid_expunge([uid])
                ev.append(['del', 'far', box, mid])
            else:
                lived = spec['lived'].get(mid, [])
                there = srv.folders()
                to = [b for b in spec['folders']
                      if b not in lived and b in there]
                if not to:
                    return ev
                dest = rng.choice(to)
                srv.move(uid, dest)
                ev.append(['del', 'far', box, mid])
                ev.append(['new', 'far', dest, mid, flags])
        elif kind == 'far_rebuild':
            # The folder deleted and made again on the server, its
            # messages appended back with their flags (a restore, another
            # client's "repair"): a new UIDVALIDITY.
            if box == 'INBOX':
                return ev
            srv.select(box)
            msgs = srv.fetch('(UID FLAGS BODY.PEEK[])')
            srv.select('INBOX')
            for cmd in ('DELETE', 'CREATE'):
                typ, d = srv.m._simple_command(cmd, box)
                if typ != 'OK':
                    raise RuntimeError('%s %s: %s' % (cmd, box, d))
            for _, flags, data in msgs:
                srv.append(box, flags, data)
            ev.append(['rebuilt', 'far', box, '%d messages' % len(msgs)])
        elif kind == 'near_reset':
            # The folder's .uidvalidity lost: new UIDs for every file.
            p = os.path.join(near_dir(spec['near'], box), '.uidvalidity')
            if os.path.exists(p):
                # The store makes the new one time(): in the second of
                # the old one it is the same UIDVALIDITY over new UIDs,
                # which open() reports (uids_new) so that the pair is
                # compared by content all the same.
                os.unlink(p)
                ev.append(['reset', 'near', box, '.uidvalidity'])
        elif kind == 'near_deliver':
            m = spec['msg']
            into_cur = rng.random() < 0.5
            flags = m['flags'] if into_cur else ''
            deliver(spec['near'], box, m['name'], flags,
                    bytes.fromhex(m['data']), into_cur)
            ev.append(['new', 'near', box, m['id'], flags])
        elif kind in ('near_flag', 'near_delete', 'near_move'):
            msgs = [x for x in near_ids(spec['near'], box) if x[2]]
            if kind != 'near_flag':
                # Two files of a ,U= (a move's clash) until a run settles
                # it: the one that goes may be the one the state pairs,
                # and the other is then taken for it (docs/maildir.md,
                # "Not done").
                us = [x[3] for x in msgs if x[3] is not None]
                msgs = [x for x in msgs if x[3] is None or us.count(x[3]) < 2]
            if spec.get('target'):
                msgs = [x for x in msgs if x[2] == spec['target']] or msgs
            if not msgs:
                return ev
            path, flags, mid, u = rng.choice(msgs)
            try:
                if kind == 'near_flag':
                    want = new_flags(rng, flags)
                    rename_flags(path, want)
                    ev.append(['flags', 'near', box, mid, want])
                elif kind == 'near_delete':
                    os.unlink(path)
                    ev.append(['del', 'near', box, mid])
                else:
                    lived = spec['lived'].get(mid, [])
                    to = [b for b in spec['folders'] if b not in lived
                          and os.path.isdir(near_dir(spec['near'], b))]
                    if not to:
                        return ev
                    dest = rng.choice(to)
                    n = os.path.basename(path)
                    if os.path.dirname(path).endswith('/new'):
                        sub = 'new'
                    else:
                        sub = 'cur'
                    # A mail reader keeps the name, ,U= included; a ,U=
                    # the folder holds already is a clash the sync
                    # settles (and may bring back the message that file
                    # is paired with, docs/maildir.md), one above the
                    # folder's last UID is replaced. Any other is taken
                    # for the folder's own (docs/maildir.md, "Not done";
                    # docs/sync-rules.md: at or below maxuid, no record:
                    # never copied): such names are moved without their
                    # ,U=, as mbsync advises mail readers to do.
                    here = {x[2]: x for x in near_files(spec['near'], dest)}
                    if u is not None and u in here:
                        data = read_file(here[u][0])
                        cid = msg_id(data) if data else None
                        if cid:
                            ev.append(['clash', 'near', dest, cid])
                    elif u is not None and u <= last_uid(spec['near'], dest):
                        n = re.sub(r',U=\d+', '', n)
                    os.rename(path, os.path.join(
                        near_dir(spec['near'], dest), sub, n))
                    ev.append(['del', 'near', box, mid])
                    ev.append(['new', 'near', dest, mid, flags])
            except FileNotFoundError:
                # The run renamed it meanwhile: the reader's action
                # failed, as a real one's would.
                ev.append(['missed', 'near', box, mid])
    finally:
        if own:
            srv.close()
    return ev


def hook_main(specfile):
    with open(specfile) as f:
        spec = json.load(f)
    try:
        ev = perform(spec)
    except Exception as e:  # reported by the driver
        ev = [['error', repr(e)]]
    with open(specfile + '.out', 'w') as f:
        json.dump(ev, f)


def quiet(line):
    """Whether a line of a dry run (-V) plans nothing."""
    return line.endswith('dry run: nothing to do') or \
        ': logging in as ' in line or \
        re.match(r'twinbox: \d+ mailbox pairs?: 0 changed, 0 failed', line)


def wait_eof(fd):
    """Read fd until its end of file (every writer gone), at most 120 s."""
    end = time.time() + 120
    try:
        while time.time() < end:
            r, _, _ = select.select([fd], [], [], end - time.time())
            if r and not os.read(fd, 4096):
                return
    finally:
        os.close(fd)
    raise Failure('a hook still runs 120 s after its run')


# ---- the model ----------------------------------------------------------

class Entry:
    def __init__(self, data):
        self.data = data        # the bytes as first written
        self.base = None        # flags both sides had at the last check
        self.far = None         # flags the user gave it on each side
        self.near = None        # (None: never there since the check)
        self.deleted = set()    # sides the user deleted it from
        self.doomed = False     # may be gone (a user deleted it)
        self.precise = True     # the rules decide its outcome


class Failure(Exception):
    pass


class History:
    def __init__(self, seed, user, env):
        self.seed = seed
        self.user = user
        self.env = env
        self.rng = random.Random(seed)
        self.dir = os.path.join(env['WORK'], 'h%d' % seed)
        self.near = os.path.join(self.dir, 'near')
        self.rc = os.path.join(self.dir, 'rc')
        os.makedirs(self.near)
        self.nmsg = 0
        self.model = {}        # (box, id) -> Entry
        self.lived = {}        # id -> folders it was ever in
        self.log = []
        self.runs = 0
        self.actions = 0
        self.disturbed = False  # a run was cut or hooked in this step
        self.step = 0
        self.hooked = False
        self.stats = {'killed': 0, 'hooks': 0, 'lost': 0}

    # -- output
    def say(self, text):
        line = 'seed %d step %d: %s' % (self.seed, self.step, text)
        self.log.append(line)
        print(line, flush=True)

    # -- configuration
    def write_rc(self):
        e = self.env
        with open(self.rc, 'w') as f:
            f.write('IMAPAccount acct\nHost 127.0.0.1\nPort %s\n'
                    'User %s\nPass %s\nTLSType None\nAuthMechs PLAIN\n'
                    'Timeout 30\nConnections %d\n\n'
                    % (e['IMAP_PORT'], self.user, e['PASSWORD'], self.conns))
            f.write('IMAPStore far\nAccount acct\n\n')
            f.write('MaildirStore near\nPath %s/\nInbox %s/INBOX\n'
                    'SubFolders Verbatim\n\n' % (self.near, self.near))
            f.write('Channel r\nFar :far:\nNear :near:\nPatterns *\n'
                    'Create Both\nExpunge %s\nSyncState *\n' % self.expunge)

    # -- messages
    def new_msg(self, box):
        self.nmsg += 1
        mid = 's%dm%d' % (self.seed, self.nmsg)
        r = self.rng
        kind = r.choice(['lf'] * 6 + ['crlf'] * 3 +
                        ['cr', 'mixed', 'noeol', 'headonly', 'big'])
        body = ['Body of %s.' % mid]
        for _ in range(r.randint(0, 6) if kind != 'big' else
                       r.randint(1000, 4000)):
            body.append(''.join(r.choice('abcdefgh ') for _ in
                                range(r.randint(0, 70))))
        head = ['From: u%d@random.test' % r.randint(1, 9),
                'Subject: %s in %s' % (mid, box),
                'Message-ID: <%s@random.test>' % mid]
        if kind == 'cr':
            body.insert(1, 'bare\rCR inside\r a line')
        eol = '\r\n' if kind == 'crlf' else '\n'
        text = eol.join(head) + eol + eol + eol.join(body) + eol
        if kind == 'mixed':
            text = text.replace('Body of', 'Body\r\nof', 1) + '\r'
        elif kind == 'noeol':
            text = text[:-1]
        elif kind == 'headonly':
            text = eol.join(head) + eol
        flags = ''
        if r.random() < 0.6:
            flags = fl(r.sample('FRS', r.randint(1, 2)))
        if r.random() < 0.05:
            flags = fl(flags + 'T')
        return {'id': mid, 'data': text.encode().hex(), 'flags': flags,
                'kind': kind,
                'name': '%d.R%dS%d.reader' % (1700000000 + self.nmsg,
                                             self.nmsg, self.seed)}

    # -- the model
    def entry(self, box, mid, data=None):
        key = (box, mid)
        if key not in self.model:
            self.model[key] = Entry(data)
        return self.model[key]

    def apply(self, ev, spec_msgs, concurrent):
        for e in ev:
            if e[0] == 'error':
                raise Failure('a user action failed: %s' % e[1])
            if e[0] == 'missed':
                self.say('  (%s %s %s: the file had been renamed by the '
                         'run; nothing done)' % tuple(e[1:]))
                continue
            kind, side, box, mid = e[:4]
            key = (box, mid)
            if kind in ('rebuilt', 'reset'):
                # A new UIDVALIDITY: the next run re-pairs the folder by
                # content, and brings back a message deleted on one side
                # whose record it cannot keep (docs/sync-rules.md, "Which
                # UIDs are trusted"): only invariants hold there.
                for (b, m), x in self.model.items():
                    if b == box:
                        x.precise = False
                continue
            if kind == 'clash':
                if key in self.model:
                    self.model[key].precise = False
                continue
            self.lived.setdefault(mid, set()).add(box)
            if kind == 'new':
                data = spec_msgs.get(mid)
                if data is None:  # a move: the bytes it had
                    for (b, m), x in self.model.items():
                        if m == mid:
                            data = x.data
                            break
                self.set_flags(self.entry(box, mid, data), side, e[4])
            elif kind == 'flags':
                self.set_flags(self.known(key, 'flags of'), side, e[4])
            elif kind == 'del':
                x = self.known(key, 'deleted')
                x.deleted.add(side)
                x.doomed = True
            else:
                continue
            if concurrent or self.disturbed:
                self.model[key].precise = False

    def known(self, key, what):
        """The model's entry of key, which an event says exists."""
        x = self.model.get(key)
        if x is None:
            raise Failure('%s a message the model lacks: %s' % (what, key))
        return x

    def set_flags(self, x, side, flags):
        """A side's flags of x; \\Deleted dooms it under Expunge Both."""
        setattr(x, side, flags)
        if 'T' in flags and self.expunge == 'Both':
            x.doomed = True

    def spec(self, kind, box, msg=None, target=None):
        e = self.env
        return {'kind': kind, 'box': box, 'rseed': self.rng.getrandbits(32),
                'port': e['IMAP_PORT'], 'user': self.user,
                'password': e['PASSWORD'], 'near': self.near,
                'folders': self.folders,
                'lived': {k: sorted(v) for k, v in self.lived.items()},
                'msg': msg, 'target': target}

    def describe(self, spec):
        t = spec['kind'] + ' ' + spec['box']
        if spec['msg']:
            m = spec['msg']
            t += ' %s (%s, flags "%s")' % (m['id'], m['kind'], m['flags'])
        return t

    def random_spec(self, concurrent=False):
        r = self.rng
        kinds = ['far_append'] * 3 + ['near_deliver'] * 3 + \
            ['far_flag'] * 3 + ['near_flag'] * 3 + \
            ['far_delete', 'near_delete'] * 1 + \
            ['far_move', 'near_move', 'far_expunge']
        if not concurrent:
            kinds += ['twin', 'new_folder', 'far_rebuild', 'near_reset']
        kind = r.choice(kinds)
        box = r.choice(self.folders)
        msg = None
        if kind in ('far_append', 'near_deliver', 'twin'):
            msg = self.new_msg(box)
        return self.spec(kind, box, msg)

    def act(self, spec, srv):
        """One action between runs, in the driver."""
        self.actions += 1
        msgs = {}
        if spec['msg']:
            msgs[spec['msg']['id']] = bytes.fromhex(spec['msg']['data'])
        if spec['kind'] == 'twin':
            # The same message delivered to both sides (first contact
            # by content pairs them).
            ev = perform(dict(spec, kind='far_append'), srv)
            ev += perform(dict(spec, kind='near_deliver',
                               rseed=spec['rseed'] + 1))
        elif spec['kind'] == 'new_folder':
            left = [b for b in LATE_FOLDERS if b not in self.folders]
            if not left:
                return
            b = left[0]
            self.folders.append(b)
            side = self.rng.choice(['far', 'near'])
            self.say('create folder %s on %s' % (b, side))
            if side == 'far':
                srv.create(b)
            else:
                for sub in ('cur', 'new', 'tmp'):
                    os.makedirs(os.path.join(self.near, b, sub))
            return
        else:
            ev = perform(spec, srv)
        self.say(self.describe(spec) + ' -> ' + self.events_text(ev))
        self.apply(ev, msgs, False)

    def events_text(self, ev):
        if not ev:
            return 'nothing to do'
        return '; '.join(' '.join(str(x) for x in e[:4]) +
                         (' "%s"' % e[4] if len(e) > 4 else '')
                         for e in ev)

    # -- runs
    def twinbox(self, args, env_extra=None, kill_after=None, out=None):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith('TWINBOX_')}
        if env_extra:
            env.update(env_extra)
        self.runs += 1
        out = out or os.path.join(self.dir, 'run%d.out' % self.runs)
        # A hook outlives a run killed meanwhile (with Connections 3 the
        # other threads go on while it runs): it holds the write end of
        # this pipe, whose end of file says it is over.
        rfd, wfd = os.pipe()
        with open(out, 'wb') as f:
            p = subprocess.Popen([self.env['BIN'], '-V', '-c', self.rc] + args +
                                 ['r'], stdout=f, stderr=subprocess.STDOUT,
                                 env=env, pass_fds=(wfd,))
            os.close(wfd)
            try:
                if kill_after is not None:
                    try:
                        p.wait(timeout=kill_after)
                    except subprocess.TimeoutExpired:
                        os.kill(p.pid, signal.SIGKILL)
                st = p.wait(timeout=120)
            except subprocess.TimeoutExpired:
                os.kill(p.pid, signal.SIGKILL)
                p.wait()
                raise Failure('a run took over 120 s')
            finally:
                wait_eof(rfd)
        with open(out, 'rb') as f:
            text = f.read().decode(errors='replace')
        if st < 0:
            st = 128 - st
        return st, text

    def two_runs(self):
        """Two runs at once (a cron job and a user's run): the pair
        lock keeps them apart; one is killed now and then."""
        r = self.rng
        env = {k: v for k, v in os.environ.items()
               if not k.startswith('TWINBOX_')}
        kill = r.choice([None, None, 0.05, 0.2])
        procs = []
        for i in (1, 2):
            self.runs += 1
            out = os.path.join(self.dir, 'run%d.out' % self.runs)
            with open(out, 'wb') as f:
                procs.append((subprocess.Popen(
                    [self.env['BIN'], '-V', '-c', self.rc, 'r'], stdout=f,
                    stderr=subprocess.STDOUT, env=env), out))
        if kill is not None:
            time.sleep(kill)
            try:
                os.kill(procs[0][0].pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        sts = []
        for p, out in procs:
            try:
                st = p.wait(timeout=120)
            except subprocess.TimeoutExpired:
                os.kill(p.pid, signal.SIGKILL)
                p.wait()
                raise Failure('a run took over 120 s')
            sts.append(128 - st if st < 0 else st)
            with open(out, 'rb') as f:
                text = f.read().decode(errors='replace')
            # A pair the other run holds is an error of that pair (exit
            # 1); any other failure is not expected.
            # Both runs may create a new folder's mailbox on the server:
            # the second CREATE's NO [ALREADYEXISTS] is no failure.
            if st == 1 and 'locked' not in text:
                raise Failure('one of two runs at once exited 1:\n' + text)
            if st not in (0, 1, 137, -9):
                raise Failure('one of two runs at once exited %d:\n%s'
                              % (st, text))
        self.say('two runs at once%s: exit %d and %d' % (
            '' if kill is None else ', the first killed after %.2f s' % kill,
            sts[0], sts[1]))
        if 137 in sts:
            self.stats['killed'] += 1

    def disturbed_run(self):
        r = self.rng
        how = r.choice(['kill'] * 3 + ['clock', 'hook', 'hook', 'two'])
        if how == 'two':
            self.two_runs()
            self.disturbed = True
            return
        env = {}
        kill_after = None
        spec = None
        if how == 'kill':
            n = r.randint(1, r.choice([8, 20, 20, 40]))
            env['TWINBOX_CRASH_AFTER'] = str(n)
            text = 'run killed at step %d' % n
        elif how == 'clock':
            kill_after = r.choice([0.005, 0.01, 0.02, 0.03, 0.05, 0.08,
                                   0.12, 0.2])
            text = 'run killed after %.2f s' % kill_after
        else:
            n = r.randint(1, r.choice([8, 20, 20, 30]))
            spec = self.random_spec(concurrent=True)
            sf = os.path.join(self.dir, 'hook%d.json' % self.runs)
            with open(sf, 'w') as f:
                json.dump(spec, f)
            env['TWINBOX_HOOK_AT'] = str(n)
            env['TWINBOX_HOOK_CMD'] = '%s %s hook %s' % (
                shlex.quote(sys.executable),
                shlex.quote(os.path.abspath(__file__)), shlex.quote(sf))
            text = 'run with, at step %d, %s' % (n, self.describe(spec))
            if r.random() < 0.3:
                m = n + r.randint(1, 20)
                env['TWINBOX_CRASH_AFTER'] = str(m)
                text += ', killed at step %d' % m
        st, out = self.twinbox([], env, kill_after)
        if st == 137:
            self.stats['killed'] += 1
        ok = {0, 137} | ({1} if spec else set())
        self.say('%s: exit %d' % (text, st))
        if st not in ok:
            raise Failure('a %s exited %d:\n%s' % (how, st, out))
        if spec:
            try:
                with open(sf + '.out') as f:
                    ev = json.load(f)
                self.actions += 1
                self.hooked = True
                self.stats['hooks'] += 1
                self.say('  the hook did: ' + self.events_text(ev))
                msgs = {}
                if spec['msg']:
                    msgs[spec['msg']['id']] = \
                        bytes.fromhex(spec['msg']['data'])
                self.apply(ev, msgs, True)
            except FileNotFoundError:
                self.say('  (the run ended before the hook\'s step)')
        self.disturbed = True

    def lose_state(self):
        n = 0
        for b in near_folders(self.near):
            for suffix in ('', '.journal'):
                p = os.path.join(self.near, b, '.twinboxstate' + suffix)
                if os.path.exists(p):
                    os.unlink(p)
                    n += 1
        self.say('state files lost (%d removed)' % n)
        self.stats['lost'] += 1
        if self.disturbed:
            for x in self.model.values():
                x.precise = False
        else:
            # First contact: what each side holds now is new on it.
            for x in self.model.values():
                if x.base is not None:
                    x.far = x.base if x.far is None else x.far
                    x.near = x.base if x.near is None else x.near
                    x.base = None

    # -- checks
    def read_far(self):
        srv = Server(self.env['IMAP_PORT'], self.user, self.env['PASSWORD'])
        try:
            out = {}
            for b in srv.folders():
                srv.select(b, readonly=True)
                out[b] = [(f, msg_id(d or b''), d or b'')
                          for _, f, d in srv.fetch('(UID FLAGS BODY.PEEK[])')]
            return out
        finally:
            srv.close()

    def read_near(self):
        out = {}
        for b in near_folders(self.near):
            out[b] = []
            for path, flags, u in near_files(self.near, b):
                d = read_file(path) or b''
                out[b].append((flags, msg_id(d), d))
        return out

    def expected(self, x):
        """(far, near) flags the rules promise, None for absent; or None
        when they promise nothing."""
        if not x.precise:
            return None
        sides = {'far': x.far, 'near': x.near}
        if x.base is None:
            # A new message (or first contact): copied, twins paired by
            # content with the flags of both united.
            here = [sides[s] for s in sides if sides[s] is not None and
                    s not in x.deleted]
            if not here:
                return (None, None)
            res = fl(''.join(here))
        else:
            f = x.far if x.far is not None else x.base
            n = x.near if x.near is not None else x.base
            if len(x.deleted) == 2:
                return (None, None)
            if x.deleted:
                if self.expunge == 'Both':
                    return (None, None)
                other = 'near' if 'far' in x.deleted else 'far'
                keep = fl((f if other == 'far' else n) + 'T')
                return (keep, None) if other == 'far' else (None, keep)
            b = set(x.base)
            res = fl((b - (b - set(f)) - (b - set(n))) |
                     (set(f) - b) | (set(n) - b))
        if 'T' in res and self.expunge == 'Both':
            return (None, None)
        return (res, res)

    def check(self):
        far = self.read_far()
        near = self.read_near()
        problems = []
        if sorted(far) != sorted(near):
            problems.append('folders differ: far %s, near %s'
                            % (sorted(far), sorted(near)))
        seen = {}
        for side, tree in (('far', far), ('near', near)):
            for b, msgs in tree.items():
                for flags, mid, data in msgs:
                    key = (b, mid)
                    if mid is None:
                        problems.append('%s %s: a message without a '
                                        'Message-ID' % (side, b))
                        continue
                    if (side, key) in seen:
                        problems.append('DUPLICATE: %s %s %s twice'
                                        % (side, b, mid))
                        continue
                    seen[(side, key)] = flags
                    x = self.model.get(key)
                    if x is None:
                        problems.append('%s %s %s: a message the model '
                                        'does not hold there' %
                                        (side, b, mid))
                        continue
                    if canon(data) != canon(x.data):
                        problems.append('%s %s %s: content differs from '
                                        'what was written: %r != %r' %
                                        (side, b, mid, canon(data),
                                         canon(x.data)))
        for key, x in sorted(self.model.items()):
            f = seen.get(('far', key))
            n = seen.get(('near', key))
            name = '%s %s' % key
            if f is None and n is None:
                if not x.doomed:
                    problems.append('LOST: %s, never deleted, is on '
                                    'neither side' % name)
                continue
            if f is None or n is None:
                if not x.doomed:
                    problems.append('LOST: %s, never deleted, is on %s '
                                    'only' % (name, 'far' if f else 'near'))
            elif f != n:
                problems.append('flags differ: %s far "%s" near "%s"'
                                % (name, f, n))
            want = self.expected(x)
            if want is not None and (want[0], want[1]) != (f, n):
                show = lambda v: 'absent' if v is None else '"%s"' % v
                problems.append('%s: the rules give far %s near %s, '
                                'found far %s near %s (base %s, user far '
                                '%s near %s, deleted on %s)' %
                                (name, show(want[0]), show(want[1]),
                                 show(f), show(n), show(x.base),
                                 show(x.far), show(x.near),
                                 sorted(x.deleted) or 'neither'))
        st, out = self.twinbox(['--dry-run'])
        extra = [ln for ln in out.splitlines() if not quiet(ln)]
        if st != 0 or extra:
            problems.append('the dry run (exit %d) plans something:\n%s'
                            % (st, out))
        if problems:
            raise Failure('\n'.join(problems))
        # The checked state is the next step's base.
        for key in list(self.model):
            x = self.model[key]
            f = seen.get(('far', key))
            n = seen.get(('near', key))
            if f is None and n is None:
                del self.model[key]
                continue
            x.deleted = set()
            x.far = x.near = None
            if f is not None and n is not None:
                x.base = f
                x.doomed = False
                x.precise = True
            else:
                # A one-sided rest (a deletion marked, Expunge None):
                # whatever the user does to it is not tracked.
                x.base = None
                x.doomed = True
                x.precise = False

    def clean_runs(self):
        for i in (1, 2):
            st, out = self.twinbox([])
            last = out
            if st != 0:
                raise Failure('clean run %d exited %d:\n%s' % (i, st, out))
            st, out = self.twinbox(['--dry-run'],
                                   out=os.path.join(self.dir, 'dry.out'))
            if st == 0 and all(quiet(ln) for ln in out.splitlines()):
                self.say('clean run%s: exit 0' % (' (twice)' if i == 2
                                                   else ''))
                return i
            if not self.hooked:
                # Nothing changed the stores during the runs of this
                # step: one run after a kill must finish the work
                # (DESIGN.md invariants 3 and 4).
                raise Failure('a clean run exited 0 but a dry run after '
                              'it plans something:\n%s\nthe clean run '
                              'said:\n%s' % (out, last))
        return 2

    # -- the history
    def setup(self):
        r = self.rng
        self.conns = r.choice([1, 3])
        self.expunge = r.choice(['Both', 'None'])
        self.folders = ['INBOX'] + r.sample(EXTRA_FOLDERS, r.randint(2, 3))
        self.write_rc()
        self.say('Connections %d, Expunge %s, folders %s'
                 % (self.conns, self.expunge, ' '.join(self.folders)))
        srv = Server(self.env['IMAP_PORT'], self.user, self.env['PASSWORD'])
        try:
            for b in self.folders:
                where = r.choice(['both', 'both', 'far', 'near'])
                if b != 'INBOX' and where != 'near':
                    srv.create(b)
                if b == 'INBOX' or where != 'far':
                    for sub in ('cur', 'new', 'tmp'):
                        os.makedirs(os.path.join(self.near, b, sub))
                self.say('folder %s on %s' % (b, 'both' if b == 'INBOX'
                                              else where))
            for _ in range(r.randint(2, 8)):
                b = r.choice(self.folders)
                ok = ['far_append', 'near_deliver', 'twin']
                if not os.path.isdir(os.path.join(self.near, b)):
                    ok = ['far_append']
                elif b != 'INBOX' and b not in srv.folders():
                    ok = ['near_deliver']
                k = r.choice(ok)
                self.act(self.spec(k, b, self.new_msg(b)), srv)
        finally:
            srv.close()

    def run_step(self):
        r = self.rng
        self.disturbed = False
        self.hooked = False
        if r.random() < 0.05:
            # The user changes the channel's Expunge between runs: with
            # Both, whatever carries \Deleted goes.
            self.expunge = 'None' if self.expunge == 'Both' else 'Both'
            self.write_rc()
            self.say('Expunge %s from now on' % self.expunge)
            if self.expunge == 'Both':
                for x in self.model.values():
                    if 'T' in (x.base or '') + (x.far or '') + (x.near or ''):
                        x.doomed = True
        srv = Server(self.env['IMAP_PORT'], self.user, self.env['PASSWORD'])
        try:
            # (The first step syncs what setup() made.)
            for _ in range(r.randint(0, 6) if self.step > 1 else 0):
                self.act(self.random_spec(), srv)
        finally:
            srv.close()
        if r.random() < 0.1:
            self.lose_state()
        for _ in range(r.choice([0, 1, 1, 1, 2, 2, 3])):
            self.disturbed_run()
            if r.random() < 0.25:
                srv = Server(self.env['IMAP_PORT'], self.user,
                             self.env['PASSWORD'])
                try:
                    for _ in range(r.randint(1, 2)):
                        self.act(self.random_spec(), srv)
                finally:
                    srv.close()
            if r.random() < 0.08:
                self.lose_state()
        if r.random() < 0.1 and self.conns == 1 and not self.disturbed:
            # A switch between syncs is the user's: Connections is
            # a run's matter, the model holds.
            self.conns = 3
            self.write_rc()
            self.say('Connections 3 from now on')
        self.clean_runs()
        self.check()
        self.say('checked: %d messages, both sides alike' % sum(
            1 for x in self.model.values()))


def run_main():
    env = os.environ
    seeds = [int(s) for s in env['SEEDS'].split()]
    users = env['USERS'].split()
    steps = int(env.get('STEPS', '8'))
    failed = []
    total_actions = total_runs = total_steps = 0
    stats = {'killed': 0, 'hooks': 0, 'lost': 0}
    t0 = time.time()
    for seed, user in zip(seeds, users):
        h = History(seed, user, env)
        print('---- history with seed %d (SEED=%d reruns it)' % (seed, seed),
              flush=True)
        try:
            h.setup()
            for step in range(1, steps + 1):
                h.step = step
                h.run_step()
                total_steps += 1
        except Failure as e:
            print('FAIL: seed %d step %d:\n%s' % (seed, h.step,
                  '\n'.join('    ' + ln for ln in str(e).splitlines())),
                  file=sys.stderr, flush=True)
            failed.append(seed)
        except Exception as e:
            print('FAIL: seed %d step %d: %r' % (seed, h.step, e),
                  file=sys.stderr, flush=True)
            failed.append(seed)
        total_actions += h.actions
        total_runs += h.runs
        for k in stats:
            stats[k] += h.stats[k]
    print('imap_random: %d histories, %d steps, %d user actions (%d of '
          'them during a run), %d runs (%d killed), state lost %d times, '
          '%.0f s' % (len(seeds), total_steps, total_actions,
                      stats['hooks'], total_runs, stats['killed'],
                      stats['lost'], time.time() - t0))
    if failed:
        print('imap_random: failed seeds: %s' % ' '.join(map(str, failed)),
              file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    if len(sys.argv) == 3 and sys.argv[1] == 'hook':
        hook_main(sys.argv[2])
    elif len(sys.argv) == 2 and sys.argv[1] == 'run':
        sys.exit(run_main())
    else:
        print('usage: imap_random.py run | hook SPEC', file=sys.stderr)
        sys.exit(2)

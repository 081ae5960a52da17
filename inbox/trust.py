"""How far to trust the sender of an inbound message.

``verified``
    The From address is exactly a contact on file, there is no Reply-To elsewhere, and the
    ``Authentication-Results`` header written by our own receiving server (the configured
    ``trusted_authserv_id``) shows no failing DMARC, SPF or DKIM.
``suspicious``
    A lookalike of a contact's or our own domain (edit distance, homoglyphs, punycode, an extra
    or missing hyphen, a swapped or appended TLD, the real domain used as a label of another
    one), a display name that carries a different e-mail address or impersonates a contact or
    us from an unknown address, a Reply-To on another domain, or failing authentication
    reported by our trusted server.
``unverified``
    Everything else: a colleague on the client's domain who is not on file, a stranger, a
    contact whose message could not be authenticated by our server.

Only the top-most ``Authentication-Results`` header whose authserv-id equals the configured id
is read (RFC 8601 section 5): our server adds its header on top, and any copy further down or
carrying another id was written by someone else, possibly the sender, so it is ignored.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from billing.mail import InboundMessage, KnownContact, SenderTrust, TrustLevel

# Second-level public suffixes common enough to matter when cutting a domain to its
# registrable part; without a full public-suffix list this keeps "acme.co.uk" whole.
_TWO_LEVEL_SUFFIXES = frozenset(
    [
        "co.uk",
        "org.uk",
        "ac.uk",
        "gov.uk",
        "ltd.uk",
        "plc.uk",
        "me.uk",
        "net.uk",
        "com.au",
        "net.au",
        "org.au",
        "co.nz",
        "org.nz",
        "co.jp",
        "ne.jp",
        "or.jp",
        "co.kr",
        "com.br",
        "com.mx",
        "com.ar",
        "com.cn",
        "com.hk",
        "com.sg",
        "com.tr",
        "co.za",
        "co.in",
        "com.my",
        "co.il",
        "com.pl",
        "com.es",
        "com.pt",
        "co.at",
        "or.at",
        "gv.at",
        "com.de",
        "co.id",
        "com.ph",
        "com.tw",
        "com.vn",
        "com.ua",
        "com.ru",
        "com.co",
        "com.pe",
        "com.ec",
    ]
)
_FREEMAIL = frozenset(
    [
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "hotmail.co.uk",
        "live.com",
        "msn.com",
        "yahoo.com",
        "yahoo.co.uk",
        "ymail.com",
        "aol.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "gmx.de",
        "gmx.net",
        "gmx.com",
        "web.de",
        "t-online.de",
        "freenet.de",
        "posteo.de",
        "mail.com",
        "protonmail.com",
        "proton.me",
        "zoho.com",
        "yandex.ru",
        "mail.ru",
        "orange.fr",
        "wanadoo.fr",
        "free.fr",
        "laposte.net",
        "libero.it",
        "ziggo.nl",
        "kpnmail.nl",
        "hetnet.nl",
    ]
)
# Free-mail brands under any TLD (gmail.com, gmail.example, yahoo.co.uk ...).
_FREEMAIL_NAMES = frozenset(
    [
        "gmail",
        "googlemail",
        "hotmail",
        "outlook",
        "live",
        "msn",
        "yahoo",
        "ymail",
        "aol",
        "icloud",
        "gmx",
        "protonmail",
        "proton",
        "yandex",
        "zoho",
        "mailbox",
        "posteo",
        "tutanota",
    ]
)
_CONFUSABLES = str.maketrans(
    {
        "0": "o",
        "1": "l",
        "3": "e",
        "5": "s",
        "7": "t",
        "8": "b",
        "9": "g",
        "i": "l",
        "|": "l",
        "а": "a",
        "е": "e",
        "о": "o",
        "р": "p",
        "с": "c",
        "у": "y",
        "х": "x",
        "і": "l",
        "ј": "j",
        "ԁ": "d",
        "ӏ": "l",
        "ɡ": "g",
        "ο": "o",
        "α": "a",
        "ν": "v",
        "κ": "k",
        "τ": "t",
        "ι": "l",
        "_": "",
        "-": "",
        ".": "",
    }
)
_AUTH_METHOD = re.compile(r"(?<![\w.-])(dmarc|spf|dkim|arc)\s*=\s*([a-z]+)", re.IGNORECASE)


def _is_freemail(domain: str) -> bool:
    return domain in _FREEMAIL or _sld(domain) in _FREEMAIL_NAMES


def _domain(address: str) -> str:
    return address.rsplit("@", 1)[1].strip().lower().rstrip(".") if "@" in address else ""


def _to_unicode(domain: str) -> str:
    labels = []
    for label in domain.split("."):
        if label.startswith("xn--"):
            try:
                labels.append(label.encode("ascii").decode("idna"))
            except UnicodeError:
                labels.append(label)
        else:
            labels.append(label)
    return ".".join(labels)


def org_domain(domain: str) -> str:
    """The registrable part of a domain: ``mail.acme.co.uk`` → ``acme.co.uk``."""
    labels = domain.lower().strip(".").split(".")
    if len(labels) >= 3 and ".".join(labels[-2:]) in _TWO_LEVEL_SUFFIXES:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def _sld(domain: str) -> str:
    org = org_domain(domain)
    suffix_len = 2 if org.count(".") >= 2 else 1
    return ".".join(org.split(".")[:-suffix_len])


def _skeleton(text: str) -> str:
    text = unicodedata.normalize("NFKC", text.lower())
    text = text.replace("rn", "m").replace("vv", "w").replace("cl", "d")
    return text.translate(_CONFUSABLES)


def _distance(a: str, b: str, limit: int = 3) -> int:
    """Damerau-Levenshtein (optimal string alignment) distance, capped at ``limit + 1``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous_previous: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, start=1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous_previous[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous_previous, previous = previous, current
    return previous[-1]


def lookalike_reason(candidate: str, genuine: str) -> str | None:
    """Why ``candidate`` imitates ``genuine`` (both domains), or None when it does not."""
    candidate = _to_unicode(candidate.lower().strip("."))
    genuine = _to_unicode(genuine.lower().strip("."))
    if not candidate or not genuine or candidate == genuine:
        return None
    if candidate.endswith("." + genuine) or org_domain(candidate) == org_domain(genuine):
        return None  # a subdomain of the real organisation
    if any(ord(ch) > 127 for ch in candidate) and _skeleton(candidate) == _skeleton(genuine):
        return f"{candidate} uses look-alike characters for {genuine}"
    genuine_sld = _sld(genuine)
    candidate_sld = _sld(candidate)
    if (
        len(genuine_sld) >= 4
        and genuine_sld in candidate.split(".")[:-1]
        and candidate_sld != genuine_sld
    ) or candidate.startswith(genuine + "."):
        return f"{candidate} carries {genuine}'s name as a label of another domain"
    if candidate_sld == genuine_sld:
        return f"{candidate} has the same name as {genuine} under another top-level domain"
    if len(genuine_sld) >= 4 and _skeleton(candidate_sld) == _skeleton(genuine_sld):
        return f"{candidate} looks like {genuine} (homoglyphs or hyphens)"
    if len(genuine_sld) >= 5:
        limit = 2 if len(genuine_sld) >= 9 else 1
        if _distance(candidate_sld, genuine_sld, limit) <= limit:
            return f"{candidate} is a near-miss spelling of {genuine}"
        if len(genuine_sld) >= 6 and genuine_sld in candidate_sld:
            return f"{candidate} embeds {genuine}'s name"
    return None


def trusted_auth_results(
    values: Sequence[str], trusted_authserv_id: str | None
) -> dict[str, list[str]] | None:
    """Method results from the top-most header written by our server, or None if absent."""
    if not trusted_authserv_id:
        return None
    wanted = trusted_authserv_id.strip().lower()
    for value in values:
        head, _, rest = value.partition(";")
        authserv = head.strip().split()[0].lower() if head.strip() else ""
        if authserv != wanted:
            continue
        cleaned = re.sub(r"\([^()]*\)", " ", rest)  # comments may quote forged "dmarc=pass"
        results: dict[str, list[str]] = {}
        for method, result in _AUTH_METHOD.findall(cleaned):
            results.setdefault(method.lower(), []).append(result.lower())
        return results
    return None


def _normalise_name(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    text = re.sub(r"[\"'`,.()<>\[\]]", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def assess_sender(
    msg: InboundMessage,
    contacts: Sequence[KnownContact],
    *,
    trusted_authserv_id: str | None,
    own_domains: Sequence[str],
) -> SenderTrust:
    """Rate the sender of ``msg`` as verified, unverified or suspicious, with reasons.

    ``contacts`` are all contacts on file (of every client); ``own_domains`` our own domains
    (``northwind-digital.example``). The result names the matching contact and its client, or
    the client whose domain the sender shares when the address itself is not on file.
    """
    sender = msg.from_addr.strip().lower()
    sender_domain = _domain(sender)
    own = [d.strip().lower() for d in own_domains if d.strip()]
    suspicious: list[str] = []
    doubts: list[str] = []
    notes: list[str] = []

    matches = [c for c in contacts if c.email.strip().lower() == sender]
    contact = matches[0] if matches else None
    client_ids = sorted({c.client_id for c in matches})
    client_id = client_ids[0] if len(client_ids) == 1 else None
    if contact is not None:
        notes.append(
            f"From address is {contact.name} ({contact.role}) on file for " + ", ".join(client_ids)
        )
        if len(client_ids) > 1:
            # e.g. an outside bookkeeper for two clients: the referenced invoices decide
            notes.append("the address is on file for several clients")
    elif not sender:
        doubts.append("no From address")
    else:
        doubts.append(f"{sender} is not a contact on file")
        same_org = {
            c.client_id
            for c in contacts
            if sender_domain
            and not _is_freemail(sender_domain)
            and org_domain(_domain(c.email)) == org_domain(sender_domain)
        }
        if len(same_org) == 1:
            client_id = next(iter(same_org))
            notes.append(f"sender's domain {sender_domain} belongs to client {client_id}")
        if _is_freemail(sender_domain):
            doubts.append(f"{sender_domain} is a free-mail domain")

    # Lookalike domains of a contact's domain or of our own.
    genuine_domains = {_domain(c.email) for c in contacts if _domain(c.email)} | set(own)
    if sender_domain and sender_domain not in genuine_domains:
        for genuine in sorted(genuine_domains):
            if _is_freemail(genuine):
                continue
            why = lookalike_reason(sender_domain, genuine)
            if why:
                suspicious.append(f"lookalike domain: {why}")
                break
    if sender_domain.startswith("xn--") or ".xn--" in sender_domain:
        doubts.append(f"{sender_domain} is an internationalised (punycode) domain")

    # Display-name tricks.
    display = msg.from_name or ""
    for embedded in re.findall(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", display):
        if embedded.lower() != sender:
            suspicious.append(
                f"display name shows the address {embedded.lower()} but the mail is from {sender}"
            )
            break
    name = _normalise_name(display)
    if name and contact is None and len(name) >= 4:
        for known in contacts:
            if _normalise_name(known.name) == name:
                if org_domain(_domain(known.email)) == org_domain(sender_domain or "-"):
                    doubts.append(f"display name is {known.name} but {sender} is not their address")
                else:
                    suspicious.append(
                        f"display name impersonates {known.name} ({known.email}) from {sender}"
                    )
                break
        for domain in own:
            label = _sld(domain).replace("-", " ")
            if (
                label
                and len(label) >= 4
                and label in name.replace("-", " ")
                and org_domain(sender_domain or "-") != org_domain(domain)
            ):
                suspicious.append(f"display name {display!r} impersonates us ({domain})")
                break

    # Reply-To elsewhere (weighed after authentication, below).
    reply_to_foreign: list[str] = []
    reply_to_other: list[str] = []
    for reply_to in msg.reply_to:
        reply = reply_to.lower()
        if reply == sender:
            continue
        reply_domain = _domain(reply)
        if reply_domain and sender_domain and org_domain(reply_domain) != org_domain(sender_domain):
            reply_to_foreign.append(f"Reply-To {reply} is on another domain than From {sender}")
        else:
            reply_to_other.append(f"Reply-To {reply} differs from From {sender}")

    # Our own domain arriving from outside is either a colleague or a spoof.
    if sender_domain and any(sender_domain == d or sender_domain.endswith("." + d) for d in own):
        doubts.append(f"{sender} is one of our own addresses")

    # Authentication results, only as reported by our own server.
    results = trusted_auth_results(msg.auth_results, trusted_authserv_id)
    if trusted_authserv_id is None:
        notes.append("authentication not checked (no trusted server id configured)")
    elif results is None:
        doubts.append(f"no Authentication-Results from {trusted_authserv_id}")
    else:
        dmarc = results.get("dmarc", [])
        spf = results.get("spf", [])
        dkim = results.get("dkim", [])
        dkim_pass = "pass" in dkim
        if "fail" in dmarc:
            suspicious.append("DMARC fails at our server")
        spf_failure = next((r for r in spf if r in {"fail", "softfail"}), None)
        if spf_failure is not None:
            if dkim_pass:
                # forwarding breaks SPF while DKIM survives; not an attack, but not "no fail"
                doubts.append(f"SPF {spf_failure} (DKIM passes)")
            elif "fail" not in dmarc:
                suspicious.append(f"SPF {spf_failure} and no DKIM pass")
        if "fail" in dkim and not dkim_pass:
            suspicious.append("DKIM fails at our server")
        if any(r in {"permerror", "temperror"} for r in dmarc + spf + dkim):
            doubts.append("authentication errors at our server")
        if not (dkim_pass or "pass" in dmarc or "pass" in spf):
            notes.append("the sender's domain is not authenticated (no SPF, DKIM or DMARC pass)")
        elif "pass" in dmarc:
            notes.append("DMARC passes at our server")

    # A Reply-To elsewhere lowers trust unless our own server authenticated the From domain
    # (DMARC pass) of a contact on file: closeloop never answers to a Reply-To, only to the
    # address on file, so an AP-automation Reply-To on an authenticated message is harmless.
    authenticated_contact = (
        contact is not None
        and results is not None
        and "pass" in results.get("dmarc", [])
        and not suspicious
    )
    if reply_to_foreign or reply_to_other:
        if authenticated_contact:
            notes.extend(
                r + " (ignored: replies go only to the contact on file)"
                for r in reply_to_foreign + reply_to_other
            )
        else:
            suspicious.extend(reply_to_foreign)
            doubts.extend(reply_to_other)

    if suspicious:
        level = TrustLevel.suspicious
    elif contact is not None and not doubts:
        level = TrustLevel.verified
    else:
        level = TrustLevel.unverified
    return SenderTrust(
        level=level,
        reasons=tuple(suspicious + doubts + notes),
        contact=contact,
        client_id=client_id,
    )

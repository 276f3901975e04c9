"""Data sizes of a benchmark run (command-line options, two presets)."""

from dataclasses import asdict, dataclass, fields, replace


@dataclass(frozen=True)
class TenantSize:
    users: int = 20
    channels: int = 50
    messages: int = 100_000
    reactions: int = 150_000
    meetings: int = 2_000
    participants: int = 10_000
    attendance: int = 20_000
    #: the erasure target (user 1 of the tenant) wrote this many of the messages ...
    erase_messages: int = 10_000
    #: ... spread over this many channels
    erase_channels: int = 20

    def scaled(self, factor: float) -> "TenantSize":
        """Same people and channels, ``factor`` times the rows."""

        def s(n: int, floor: int = 1) -> int:
            return max(floor, round(n * factor))

        return replace(
            self,
            messages=s(self.messages, self.erase_channels * 2),
            reactions=s(self.reactions),
            meetings=s(self.meetings),
            participants=s(self.participants),
            attendance=s(self.attendance),
            erase_messages=s(self.erase_messages, self.erase_channels),
        )

    def validate(self) -> list[str]:
        errors = []
        if self.users < 3:
            errors.append("--users must be at least 3")
        if not 1 <= self.erase_channels <= self.channels:
            errors.append("--erase-channels must be between 1 and --channels")
        if not self.erase_channels <= self.erase_messages < self.messages:
            errors.append("--erase-messages must be >= --erase-channels and < --messages")
        if self.reactions > self.messages * (self.users - 1):
            errors.append("--reactions may be at most messages x (users - 1) (one per user and message)")
        if self.participants > self.meetings * (self.users - 1):
            errors.append("--participants may be at most meetings x (users - 1)")
        if min(self.meetings, self.attendance, self.reactions, self.participants) < 1:
            errors.append("every size must be at least 1")
        return errors

    @property
    def rows(self) -> int:
        """Rows the tenant owns: its company, people, memberships and the rest."""
        return (
            1
            + self.users
            + self.channels * (1 + self.users)
            + sum((self.messages, self.reactions, self.meetings, self.participants, self.attendance))
        )

    def describe(self) -> str:
        return ", ".join(f"{f.name}={getattr(self, f.name):,}" for f in fields(self))


@dataclass(frozen=True)
class RunSize:
    tenant: TenantSize = TenantSize()
    #: the second tenant (must stay intact) is the first one scaled by this
    other_scale: float = 0.1
    #: purge is measured at full size and at this fraction, to show whether
    #: the query count grows with the tenant
    purge_small_scale: float = 0.1
    #: messages posted one by one, single-threaded, per path
    posts: int = 2_000
    #: concurrent writers on one hot channel, each posting this many messages
    writers: int = 4
    posts_per_writer: int = 500
    #: pages of 50 messages walked through the API
    pages: int = 20
    #: one-shot paths (purge, erasure) run this many times, each on freshly
    #: rebuilt data; the table shows the median run
    repeat: int = 3

    def as_dict(self) -> dict:
        return asdict(self)


DEFAULT = RunSize()

SMOKE = RunSize(
    tenant=TenantSize(
        users=5,
        channels=6,
        messages=600,
        reactions=900,
        meetings=20,
        participants=60,
        attendance=100,
        erase_messages=200,
        erase_channels=4,
    ),
    other_scale=0.5,
    purge_small_scale=0.5,
    posts=50,
    writers=2,
    posts_per_writer=25,
    pages=3,
    repeat=1,
)

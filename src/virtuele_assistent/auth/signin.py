"""Failed staff sign-ins slow down and refuse the address that makes them, never the account
(docs/adr/0011; OWASP ASVS V2.2.1, NIST SP 800-63B 5.2.2).

Three counts of failures in a window, kept in Redis (and in this process's memory, so that they hold
while Redis is down):
- per account and address: past its limit that address may no longer try that account;
- per address, any account: past its limit the address may not try any account (password spraying);
- per account, any address: past its limit the account is under attack: an address that already
  failed on it is refused, any other may still try, each attempt after a wait that doubles with every
  further limit's worth of failures (up to ``login_slowdown_max_s``).
So the right password from an address that has not failed on the account always gets in. A successful
sign-in forgets the failures for that account from that address.
"""

from __future__ import annotations

from dataclasses import dataclass

from limits import RateLimitItem, parse

from virtuele_assistent.conversations.ratelimit import RateLimiter
from virtuele_assistent.settings import Settings

PAIR, ADDRESS, ACCOUNT = "login_fail_pair", "login_fail_address", "login_fail_account"
# the account's failures are counted well past its limit, for the slowdown to keep growing
ACCOUNT_COUNT_FACTOR = 64


@dataclass(frozen=True)
class SignInCheck:
    allowed: bool
    retry_after: int = 0  # when refused: seconds until this address may try again
    wait_s: float = 0.0  # when allowed: how long to wait before checking the password


class SignInGuard:
    def __init__(self, settings: Settings, limiter: RateLimiter) -> None:
        self.limiter = limiter
        self.pair = parse(settings.login_failures_pair)
        self.address = parse(settings.login_failures_address)
        limit = parse(settings.login_failures_account)
        self.account_limit = limit.amount
        self.account: RateLimitItem = type(limit)(limit.amount * ACCOUNT_COUNT_FACTOR, limit.multiples)
        self.max_wait_s = settings.login_slowdown_max_s

    async def check(self, account: str, address: str) -> SignInCheck:
        pair = await self.limiter.tally(self.pair, PAIR, f"{account}|{address}")
        if pair.count >= self.pair.amount:
            return SignInCheck(False, pair.retry_after)
        by_address = await self.limiter.tally(self.address, ADDRESS, address)
        if by_address.count >= self.address.amount:
            return SignInCheck(False, by_address.retry_after)
        failures = (await self.limiter.tally(self.account, ACCOUNT, account)).count
        if failures < self.account_limit:
            return SignInCheck(True)
        if pair.count:  # under attack, and this address is one that failed on it
            return SignInCheck(False, pair.retry_after)
        doublings = (failures - self.account_limit) / self.account_limit
        return SignInCheck(True, wait_s=min(self.max_wait_s, 0.25 * 2**doublings))

    async def failed(self, account: str, address: str) -> None:
        await self.limiter.record(self.pair, PAIR, f"{account}|{address}")
        await self.limiter.record(self.address, ADDRESS, address)
        await self.limiter.record(self.account, ACCOUNT, account)

    async def succeeded(self, account: str, address: str) -> None:
        await self.limiter.forget(self.pair, PAIR, f"{account}|{address}")

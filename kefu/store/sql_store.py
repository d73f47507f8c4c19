"""The SQLAlchemy backend of the store: SQLite by default, PostgreSQL or any other URL by configuration."""

from __future__ import annotations

import datetime as dt
import logging
from contextlib import contextmanager
from typing import Any, Callable, Dict, Iterator, List, Sequence, Tuple

from sqlalchemy import create_engine, delete, event, func, select
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import DatabaseError, DBAPIError, IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.orm import Session, selectinload, sessionmaker
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.pool import QueuePool

from kefu.config import ShopRules
from kefu.store import changes
from kefu.store import models as m
from kefu.store.base import ChangeRefused, ConcurrentChange, Store, StoreUnavailable
from kefu.store.clock import as_utc, now_utc
from kefu.store.desk import SqlDesk
from kefu.store.records import (
    Address,
    AuditEntry,
    ChangeResult,
    Customer,
    Fulfillment,
    Order,
    OrderItem,
    OrderSummary,
    Payment,
    PaymentMethod,
    Product,
    Variant,
)

logger = logging.getLogger(__name__)


def make_engine(url: str) -> Engine:
    """An engine with the settings each database needs to be used from several threads."""
    if url.startswith("sqlite"):
        # SQLAlchemy 1.4 opens a new connection per session for a SQLite file (NullPool), and each
        # new connection reads the schema again: a pool of open connections made list_orders +
        # get_order + undelivered_messages 10.4 ms instead of 15.3 (seed store, 100 rounds).
        in_memory = url in ("sqlite://", "sqlite:///:memory:") or "mode=memory" in url
        pooling = {} if in_memory else {"poolclass": QueuePool}
        engine = create_engine(url, future=True, connect_args={"check_same_thread": False, "timeout": 15}, **pooling)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_engine(url, future=True, pool_pre_ping=True)


def _orders_of(customer_id: str) -> Any:
    """The customer's orders, newest first: the one order every order listing uses."""
    return (
        select(m.OrderRow)
        .where(m.OrderRow.customer_id == customer_id)
        .order_by(m.OrderRow.ordered_on.desc(), m.OrderRow.customer_position.desc())
    )


def order_details() -> Tuple[Any, ...]:
    """Loader options for an order with its items, fulfillments and payments, in one round trip each."""
    return (
        selectinload(m.OrderRow.items),
        selectinload(m.OrderRow.fulfillments),
        selectinload(m.OrderRow.payments),
    )


def is_unavailable(error: DBAPIError) -> bool:
    """Whether a database error means the store cannot be used at all, not a refused or wrong statement."""
    # sqlite3 raises the base DatabaseError for a corrupt file or one that is not a database;
    # its subclasses (IntegrityError, DataError, ProgrammingError...) are the caller's business.
    return type(error) is DatabaseError or isinstance(error, OperationalError) or bool(error.connection_invalidated)


def describe_location(url: URL) -> str:
    """The database file or server of ``url``, for logs and messages: never its password."""
    if url.get_backend_name() == "sqlite":
        return url.database or ":memory:"
    return f"{url.host or 'localhost'}:{url.port or 'default port'}/{url.database or ''}"


def unavailable_error(error: DBAPIError, url: URL) -> StoreUnavailable:
    """A :class:`StoreUnavailable` for ``error``, logged on one line without the statement or its values."""
    # str(error) would carry the SQL and its parameters (emails, names): only the driver's first line goes out.
    lines = str(error.orig or "").strip().splitlines()
    reason = lines[0][:200] if lines else "no detail"
    summary = f"{type(error).__name__} on {describe_location(url)}: {reason}"
    logger.error("Store unavailable: %s", summary)
    return StoreUnavailable(summary)


# Row -> record conversions. Kept here so that no ORM object leaves this module.


def _address(row: Any) -> Address:
    return Address(row.address1, row.address2, row.city, row.state, row.country, row.zip)


def _customer(row: m.CustomerRow) -> Customer:
    return Customer(
        id=row.id,
        first_name=row.first_name,
        last_name=row.last_name,
        email=row.email,
        address=_address(row),
        payment_methods=tuple(
            PaymentMethod(p.id, p.source, p.brand, p.last_four, p.balance) for p in row.payment_methods
        ),
    )


def _product(row: m.ProductRow) -> Product:
    return Product(
        id=row.id,
        name=row.name,
        variants=tuple(Variant(v.item_id, row.id, dict(v.options), v.price, v.available) for v in row.variants),
    )


def _order(row: m.OrderRow) -> Order:
    return Order(
        id=row.id,
        customer_id=row.customer_id,
        status=row.status,
        ordered_on=row.ordered_on,
        address=_address(row),
        items=tuple(OrderItem(i.item_id, i.product_id, i.name, i.price, dict(i.options)) for i in row.items),
        fulfillments=tuple(
            Fulfillment(
                tuple(f.tracking_ids),
                tuple(f.item_ids),
                f.carrier,
                f.shipped_on,
                f.expected_delivery_on,
                f.delivered_on,
            )
            for f in row.fulfillments
        ),
        payments=tuple(Payment(p.transaction_type, p.amount, p.payment_method_id) for p in row.payments),
        cancel_reason=row.cancel_reason,
        return_items=_tuple_or_none(row.return_items),
        return_payment_method_id=row.return_payment_method_id,
        exchange_items=_tuple_or_none(row.exchange_items),
        exchange_new_items=_tuple_or_none(row.exchange_new_items),
        exchange_payment_method_id=row.exchange_payment_method_id,
        exchange_price_difference=row.exchange_price_difference,
    )


def _tuple_or_none(values: Any) -> Any:
    return tuple(values) if values is not None else None


def _failure_keys(keys: Sequence[str]) -> List[str]:
    """The distinct non-empty keys, in order; a key too long for its column is the caller's bug."""
    if isinstance(keys, str):
        # A bare string would otherwise count one failure against each of its characters.
        raise TypeError("keys must be a sequence of keys, not one string")
    wanted = list(dict.fromkeys(key for key in keys if key))
    limit = m.IdentificationFailureRow.key.type.length
    too_long = [key for key in wanted if len(key) > limit]
    if too_long:
        # Checked here so that SQLite (which does not enforce lengths) fails like PostgreSQL.
        raise ValueError(f"identification keys are at most {limit} characters: hash long ones")
    return wanted


def _audit(row: m.AuditRow) -> AuditEntry:
    return AuditEntry(
        row.at,
        row.conversation_id,
        row.actor,
        row.action,
        row.entity,
        row.entity_id,
        dict(row.changes),
    )


class SqlStore(SqlDesk, Store):
    """Store backed by any database SQLAlchemy 1.4 supports (the human desk in kefu/store/desk.py)."""

    # Who the audit log names for this store's writes; an agent approving a review writes as itself.
    actor = "kefu"

    def __init__(self, url: str, engine: Engine | None = None, rules: ShopRules | None = None) -> None:
        if rules is None:
            from kefu.config import settings

            rules = settings().rules
        self.rules = rules
        self.url = url
        self.engine = engine or make_engine(url)
        self._sessions = sessionmaker(bind=self.engine, future=True, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed when the block ends, rolled back on any error."""
        try:
            with self._sessions() as session, session.begin():
                yield session
        except DBAPIError as error:
            if is_unavailable(error):
                raise unavailable_error(error, self.engine.url) from error
            raise

    # Customers

    def _customer_query(self):  # type: ignore[no-untyped-def]
        return select(m.CustomerRow).options(selectinload(m.CustomerRow.payment_methods))

    def find_customer_by_email(self, email: str) -> Customer | None:
        wanted = (email or "").strip().lower()
        if not wanted:
            return None
        with self.session() as session:
            row = session.scalars(self._customer_query().where(func.lower(m.CustomerRow.email) == wanted)).first()
            return _customer(row) if row else None

    def find_customer_by_name_and_zip(self, first_name: str, last_name: str, zip_code: str) -> Customer | None:
        first, last, zip_ = (s.strip().lower() for s in (first_name, last_name, zip_code))
        if not (first and last and zip_):
            return None
        with self.session() as session:
            row = session.scalars(
                self._customer_query().where(
                    func.lower(m.CustomerRow.first_name) == first,
                    func.lower(m.CustomerRow.last_name) == last,
                    m.CustomerRow.zip == zip_,
                )
            ).first()
            return _customer(row) if row else None

    def get_customer(self, customer_id: str) -> Customer | None:
        with self.session() as session:
            row = session.scalars(self._customer_query().where(m.CustomerRow.id == customer_id)).first()
            return _customer(row) if row else None

    # Orders

    def list_orders(self, customer_id: str) -> List[OrderSummary]:
        with self.session() as session:
            rows = session.scalars(_orders_of(customer_id).options(selectinload(m.OrderRow.items))).all()
            return [OrderSummary(r.id, r.status, r.ordered_on, tuple(i.name for i in r.items)) for r in rows]

    def get_order(self, order_id: str, customer_id: str) -> Order | None:
        with self.session() as session:
            row = session.scalars(
                select(m.OrderRow)
                .options(*order_details())
                .where(m.OrderRow.id == order_id, m.OrderRow.customer_id == customer_id)
            ).first()
            return _order(row) if row else None

    def customer_orders(self, customer_id: str) -> List[Order]:
        with self.session() as session:
            rows = session.scalars(_orders_of(customer_id).options(*order_details())).all()
            return [_order(r) for r in rows]

    def order_history(self) -> List[Order]:
        with self.session() as session:
            rows = session.scalars(
                select(m.OrderRow).options(*order_details()).order_by(m.OrderRow.ordered_on, m.OrderRow.id)
            ).all()
            return [_order(r) for r in rows]

    # Catalogue

    def list_products(self) -> List[Product]:
        with self.session() as session:
            rows = session.scalars(
                select(m.ProductRow).options(selectinload(m.ProductRow.variants)).order_by(m.ProductRow.seed_position)
            ).all()
            return [_product(r) for r in rows]

    def get_product(self, product_id: str) -> Product | None:
        with self.session() as session:
            row = session.scalars(
                select(m.ProductRow).options(selectinload(m.ProductRow.variants)).where(m.ProductRow.id == product_id)
            ).first()
            return _product(row) if row else None

    # Audit

    def audit_log(self, conversation_id: str | None = None) -> List[AuditEntry]:
        with self.session() as session:
            query = select(m.AuditRow).order_by(m.AuditRow.id)
            if conversation_id is not None:
                query = query.where(m.AuditRow.conversation_id == conversation_id)
            return [_audit(r) for r in session.scalars(query).all()]

    # Changes: one transaction each, audited, idempotent per request id, safe under concurrency.

    def cancel_order(
        self, customer_id: str, order_id: str, reason: str, conversation_id: str | None, request_id: str | None = None
    ) -> ChangeResult:
        return self._change_order(
            "cancel_order",
            customer_id,
            order_id,
            conversation_id,
            request_id,
            lambda session, order: changes.cancel(session, order, self.rules, reason),
        )

    def change_order_address(
        self,
        customer_id: str,
        order_id: str,
        address: Address,
        conversation_id: str | None,
        request_id: str | None = None,
    ) -> ChangeResult:
        return self._change_order(
            "change_order_address",
            customer_id,
            order_id,
            conversation_id,
            request_id,
            lambda session, order: changes.change_address(order, self.rules, address),
        )

    def change_order_payment(
        self,
        customer_id: str,
        order_id: str,
        payment_method_id: str,
        conversation_id: str | None,
        request_id: str | None = None,
    ) -> ChangeResult:
        return self._change_order(
            "change_order_payment",
            customer_id,
            order_id,
            conversation_id,
            request_id,
            lambda session, order: changes.change_payment(order, self.rules, payment_method_id),
        )

    def change_order_items(
        self,
        customer_id: str,
        order_id: str,
        item_ids: Sequence[str],
        new_item_ids: Sequence[str],
        payment_method_id: str,
        conversation_id: str | None,
        request_id: str | None = None,
    ) -> ChangeResult:
        return self._change_order(
            "change_order_items",
            customer_id,
            order_id,
            conversation_id,
            request_id,
            lambda session, order: changes.change_items(
                session, order, self.rules, item_ids, new_item_ids, payment_method_id
            ),
        )

    def return_items(
        self,
        customer_id: str,
        order_id: str,
        item_ids: Sequence[str],
        payment_method_id: str,
        conversation_id: str | None,
        request_id: str | None = None,
    ) -> ChangeResult:
        return self._change_order(
            "return_items",
            customer_id,
            order_id,
            conversation_id,
            request_id,
            lambda session, order: changes.request_return(
                order, self.rules, item_ids, payment_method_id, self._recent_returns(session, customer_id)
            ),
        )

    def exchange_items(
        self,
        customer_id: str,
        order_id: str,
        item_ids: Sequence[str],
        new_item_ids: Sequence[str],
        payment_method_id: str,
        conversation_id: str | None,
        request_id: str | None = None,
    ) -> ChangeResult:
        return self._change_order(
            "exchange_items",
            customer_id,
            order_id,
            conversation_id,
            request_id,
            lambda session, order: changes.request_exchange(
                session, order, self.rules, item_ids, new_item_ids, payment_method_id
            ),
        )

    def change_customer_address(
        self, customer_id: str, address: Address, conversation_id: str | None, request_id: str | None = None
    ) -> ChangeResult:
        def apply(session: Session) -> Tuple[Dict[str, Any], Any]:
            customer = session.scalars(
                self._customer_query().where(m.CustomerRow.id == customer_id).with_for_update()
            ).first()
            if customer is None:
                raise ChangeRefused("unknown_customer", f"no customer {customer_id}")
            return changes.change_customer_address(customer, address), customer

        def result(session: Session, replayed: bool) -> ChangeResult:
            row = session.scalars(self._customer_query().where(m.CustomerRow.id == customer_id)).first()
            return ChangeResult("change_customer_address", customer=_customer(row), replayed=replayed)

        return self._change(
            "change_customer_address", "customer", customer_id, conversation_id, request_id, apply, result
        )

    def _recent_returns(self, session: Session, customer_id: str) -> int:
        """The customer's returns and exchanges requested within ``rules.returns_review_days``."""
        since = now_utc() - dt.timedelta(days=self.rules.returns_review_days)
        query = (
            select(func.count())
            .select_from(m.AuditRow)
            .join(m.OrderRow, m.OrderRow.id == m.AuditRow.entity_id)
            .where(
                m.AuditRow.entity == "order",
                m.AuditRow.action.in_(("return_items", "exchange_items")),
                m.AuditRow.at >= since,
                m.OrderRow.customer_id == customer_id,
            )
        )
        return int(session.scalar(query) or 0)

    def _order_for_update(self, session: Session, customer_id: str, order_id: str) -> m.OrderRow:
        row = session.scalars(
            select(m.OrderRow)
            .options(
                *order_details(),
                selectinload(m.OrderRow.customer).selectinload(m.CustomerRow.payment_methods),
            )
            .where(m.OrderRow.id == order_id, m.OrderRow.customer_id == customer_id)
            .with_for_update()
        ).first()
        if row is None:
            # Someone else's order reads exactly like a missing one.
            raise ChangeRefused("unknown_order", f"no order {order_id} on this account")
        return row

    def _change_order(
        self,
        action: str,
        customer_id: str,
        order_id: str,
        conversation_id: str | None,
        request_id: str | None,
        apply_to_order: Callable[[Session, m.OrderRow], Dict[str, Any]],
    ) -> ChangeResult:
        def apply(session: Session) -> Tuple[Dict[str, Any], Any]:
            order = self._order_for_update(session, customer_id, order_id)
            return apply_to_order(session, order), order

        def result(session: Session, replayed: bool) -> ChangeResult:
            return ChangeResult(
                action, order=_order(self._order_for_update(session, customer_id, order_id)), replayed=replayed
            )

        return self._change(action, "order", order_id, conversation_id, request_id, apply, result)

    def _change(
        self,
        action: str,
        entity: str,
        entity_id: str,
        conversation_id: str | None,
        request_id: str | None,
        apply: Callable[[Session], Tuple[Dict[str, Any], Any]],
        result: Callable[[Session, bool], ChangeResult],
    ) -> ChangeResult:
        try:
            with self.session() as session:
                if request_id and session.get(m.WriteRequestRow, request_id) is not None:
                    return result(session, True)
                changed, _row = apply(session)
                self._audit(session, conversation_id, action, entity, entity_id, changed, self.actor)
                if request_id:
                    session.add(
                        m.WriteRequestRow(request_id=request_id, at=now_utc(), action=action, entity_id=entity_id)
                    )
                session.flush()
                return result(session, False)
        except StaleDataError as error:
            raise ConcurrentChange(f"{entity} {entity_id} was changed by someone else meanwhile") from error
        except IntegrityError:
            if not request_id:
                raise
            # The same request committed in another process first: report it, change nothing.
            with self.session() as session:
                return result(session, True)

    # Identification attempts

    def record_failed_identification(self, keys: Sequence[str], at: dt.datetime | None = None) -> None:
        wanted = _failure_keys(keys)
        if not wanted:
            return
        moment = as_utc(at or now_utc())
        with self.session() as session:
            session.add_all([m.IdentificationFailureRow(key=key, at=moment) for key in wanted])

    def failed_identifications(self, key: str, since: dt.datetime) -> int:
        row = m.IdentificationFailureRow
        with self.session() as session:
            count = session.scalar(select(func.count()).select_from(row).where(row.key == key, row.at >= as_utc(since)))
            return int(count or 0)

    def clear_failed_identifications(self, key: str) -> None:
        row = m.IdentificationFailureRow
        with self.session() as session:
            session.execute(delete(row).where(row.key == key).execution_options(synchronize_session=False))

    def prune_identification_failures(self, before: dt.datetime) -> int:
        """Delete the failed attempts older than ``before`` (past every limit's window); return how many."""
        row = m.IdentificationFailureRow
        with self.session() as session:
            result = session.execute(
                delete(row).where(row.at < as_utc(before)).execution_options(synchronize_session=False)
            )
            return int(result.rowcount or 0)

    def check_health(self) -> None:
        # SELECT 1 succeeds on a file that is not a database: reading a real table proves the store usable.
        try:
            with self.session() as session:
                session.execute(select(m.CustomerRow.id).limit(1))
        except ProgrammingError as error:
            # This statement is always valid: refused, it means the schema is missing (not migrated).
            raise unavailable_error(error, self.engine.url) from error

    @staticmethod
    def _audit(
        session: Session,
        conversation_id: str | None,
        action: str,
        entity: str,
        entity_id: str,
        changes: Dict[str, Any],
        actor: str = "kefu",
    ) -> None:
        session.add(
            m.AuditRow(
                at=now_utc(),
                conversation_id=conversation_id,
                actor=actor,
                action=action,
                entity=entity,
                entity_id=entity_id,
                changes=changes,
            )
        )

"""The SQLAlchemy backend of the store: SQLite by default, PostgreSQL or any other URL by configuration."""

from __future__ import annotations

import datetime as dt
import logging
from contextlib import contextmanager
from typing import Any, Dict, Iterator, List

from sqlalchemy import create_engine, event, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, selectinload, sessionmaker

from kefu.store import models as m
from kefu.store.base import Store, StoreUnavailable
from kefu.store.matching import rank_products
from kefu.store.records import (
    Address,
    AuditEntry,
    Customer,
    Fulfillment,
    HandoffRequest,
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
        engine = create_engine(url, future=True, connect_args={"check_same_thread": False, "timeout": 15})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_engine(url, future=True, pool_pre_ping=True)


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


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
    )


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


class SqlStore(Store):
    """Store backed by any database SQLAlchemy 1.4 supports."""

    def __init__(self, url: str, engine: Engine | None = None) -> None:
        self.url = url
        self.engine = engine or make_engine(url)
        self._sessions = sessionmaker(bind=self.engine, future=True, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed when the block ends, rolled back on any error."""
        try:
            with self._sessions() as session, session.begin():
                yield session
        except (OperationalError, DBAPIError) as error:
            if isinstance(error, OperationalError) or error.connection_invalidated:
                logger.error("Store unavailable: %s", error)
                raise StoreUnavailable(str(error.orig or error)) from error
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
            rows = session.scalars(
                select(m.OrderRow)
                .options(selectinload(m.OrderRow.items))
                .where(m.OrderRow.customer_id == customer_id)
                .order_by(m.OrderRow.ordered_on.desc(), m.OrderRow.customer_position.desc())
            ).all()
            return [OrderSummary(r.id, r.status, r.ordered_on, tuple(i.name for i in r.items)) for r in rows]

    def get_order(self, order_id: str, customer_id: str) -> Order | None:
        with self.session() as session:
            row = session.scalars(
                select(m.OrderRow)
                .options(
                    selectinload(m.OrderRow.items),
                    selectinload(m.OrderRow.fulfillments),
                    selectinload(m.OrderRow.payments),
                )
                .where(m.OrderRow.id == order_id, m.OrderRow.customer_id == customer_id)
            ).first()
            return _order(row) if row else None

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

    def find_products(self, text: str) -> List[Product]:
        # Fifty product types: ranking in Python is simpler and as fast as a LIKE query.
        return rank_products(text, self.list_products())

    # Handoff and audit

    def request_handoff(
        self, conversation_id: str, customer_id: str | None, reason: str, note: str = ""
    ) -> HandoffRequest:
        with self.session() as session:
            row = m.HandoffRow(
                at=now_utc(),
                conversation_id=conversation_id,
                customer_id=customer_id,
                reason=reason,
                note=note,
                status="open",
            )
            session.add(row)
            session.flush()
            self._audit(
                session,
                conversation_id,
                "request_handoff",
                "handoff_request",
                str(row.id),
                {"reason": reason, "customer_id": customer_id},
            )
            return HandoffRequest(
                row.id,
                row.at,
                row.conversation_id,
                row.customer_id,
                row.reason,
                row.note,
                row.status,
            )

    def audit_log(self, conversation_id: str | None = None) -> List[AuditEntry]:
        with self.session() as session:
            query = select(m.AuditRow).order_by(m.AuditRow.id)
            if conversation_id is not None:
                query = query.where(m.AuditRow.conversation_id == conversation_id)
            return [_audit(r) for r in session.scalars(query).all()]

    def check_health(self) -> None:
        with self.session() as session:
            session.execute(select(1))

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

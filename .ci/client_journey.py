"""A buyer's journey through a client generated from docs/openapi.json.

Run by .ci/fuzz: `client_journey.py BASE_URL DEMO_KEYS_JSON PACKAGE`, with the
package openapi-python-client generated on PYTHONPATH. Every answer is parsed
into the generated models, and the client raises on a status the document
does not list, so a response that drifts from the document breaks the run.
"""

import importlib
import json
import sys
import time


def main() -> int:
    base, keys_path, package = sys.argv[1], sys.argv[2], sys.argv[3]
    keys = json.load(open(keys_path))
    client_mod = importlib.import_module(package)
    api = lambda tag, op: importlib.import_module(f"{package}.api.{tag}.{op}")  # noqa: E731
    models = importlib.import_module(f"{package}.models")

    anonymous = client_mod.Client(base_url=base, raise_on_unexpected_status=True)
    buyer = client_mod.AuthenticatedClient(
        base_url=base, token=keys["buyer"]["api_key"], raise_on_unexpected_status=True
    )
    operator = client_mod.AuthenticatedClient(
        base_url=base, token=keys["operator"]["api_key"], raise_on_unexpected_status=True
    )

    # The catalog, anonymously: a page of products, then one in detail.
    page = api("catalog", "search_products").sync(client=anonymous, limit=100)
    assert isinstance(page, models.PageCatalogItem), page
    assert len(page.items) >= 12, f"the demo lists a dozen products, got {len(page.items)}"
    products = [
        api("catalog", "get_product").sync(client=anonymous, id=item.id) for item in page.items
    ]
    for product in products:
        assert isinstance(product, models.CatalogProduct), product
    one_time = [
        (product, sku)
        for product in products
        for sku in product.skus
        if sku.charging_mode == models.ChargingMode.ONE_TIME and not isinstance(sku.linear, models.Linear)
    ]
    assert one_time, "the demo sells a one-time SKU bought without a quantity"
    product, sku = one_time[0]
    print(f"catalog: {len(page.items)} products; buying {sku.sku_code!r} of {product.name!r}")

    # The buyer: an order placed; the operator credits the wallet with its
    # amount (whatever the fuzzing before spent); the order paid, the
    # subscription it made.
    order = api("orders", "create_order").sync(
        client=buyer, body=models.CreateOrder(sku_id=sku.id), idempotency_key=f"journey-{time.time_ns()}"
    )
    assert isinstance(order, models.OrderView), order
    assert order.status == models.OrderStatus.PENDING_PAYMENT, order.status
    credit = api("operator_finance", "credit_wallet").sync(
        client=operator,
        buyer_id=keys["buyer"]["id"],
        body=models.CreditRequest(
            amount_minor=order.amount_minor, currency=models.Currency(order.currency), reason="client journey"
        ),
        idempotency_key=f"credit-{order.id}",
    )
    assert isinstance(credit, models.CreditResponse), credit
    wallet = api("wallet", "get_wallet").sync(client=buyer)
    assert isinstance(wallet, models.Wallet), wallet
    paid = api("orders", "pay_order").sync(client=buyer, id=order.id, idempotency_key=f"pay-{order.id}")
    assert isinstance(paid, models.OrderView), paid
    assert paid.paid_at is not None, paid
    mine = api("orders", "get_buyer_order").sync(client=buyer, id=order.id)
    assert isinstance(mine, models.OrderView) and mine.id == order.id, mine

    subs = api("orders", "list_subscriptions").sync(client=buyer, limit=100)
    assert isinstance(subs, models.PageSubscriptionView), subs
    sub = next(s for s in subs.items if s.order_id == order.id)
    detail = api("orders", "get_subscription").sync(client=buyer, id=sub.id)
    assert isinstance(detail, models.SubscriptionView) and detail.order_id == order.id, detail
    print(f"buyer: order {order.id} paid ({paid.amount_minor} {paid.currency}), subscription {sub.id} {detail.status}")

    # A refusal is a documented problem, parsed as the Problem model.
    missing = api("catalog", "get_product").sync(client=anonymous, id="prod_does_not_exist")
    assert isinstance(missing, models.Problem) and missing.code == "not_found", missing
    print("client journey passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

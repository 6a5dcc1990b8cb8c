//! Every operation of the API in one table: its id (`operationId` in `openapi.yaml`, in snake
//! case), method and path. A function serves an operation by naming a handler after it in
//! [`crate::operations!`]; the table says where it is routed, so the routes are written once
//! and a test keeps the table equal to the document.

use axum::{
    Router,
    handler::Handler,
    routing::{MethodFilter, on},
};

/// One operation of the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operation {
    /// The `operationId`, in snake case (the name of its handler).
    pub id: &'static str,
    /// The HTTP method, upper case.
    pub method: &'static str,
    /// The path, with `{name}` parameters (as both axum and OpenAPI write them).
    pub path: &'static str,
}

const fn op(id: &'static str, method: &'static str, path: &'static str) -> Operation {
    Operation { id, method, path }
}

/// Every operation the functions serve, by function, in the document's order.
pub const OPERATIONS: &[Operation] = &[
    op("register", "POST", "/auth/register"),
    op("login", "POST", "/auth/login"),
    op("refresh_access_token", "GET", "/auth/refresh_access_token"),
    op("protected", "GET", "/auth/protected"),
    op("logout", "GET", "/auth/logout"),
    op("list_addresses", "GET", "/account/addresses"),
    op("add_address", "POST", "/account/addresses"),
    op("update_address", "PUT", "/account/addresses/{address_id}"),
    op("delete_address", "DELETE", "/account/addresses/{address_id}"),
    op("list_products", "GET", "/products/all_products"),
    op("get_product", "GET", "/products/{product_id}"),
    op("create_product", "POST", "/products/create_product"),
    op("update_product", "PUT", "/products/update_product/{product_id}"),
    op("delete_product", "DELETE", "/products/delete_product/{product_id}"),
    op("create_coupon", "POST", "/coupons/create"),
    op("update_coupon", "PUT", "/coupons/update/{coupon_code}"),
    op("delete_coupon", "DELETE", "/coupons/delete/{coupon_code}"),
    op("all_coupons", "GET", "/coupons/all"),
    op("my_coupons", "GET", "/coupons/my_coupons"),
    op("cart_details", "GET", "/cart/details"),
    op("add_cart_item", "POST", "/cart/add_item"),
    op("update_cart_item_quantity", "POST", "/cart/update_item_quantity"),
    op("remove_cart_item", "POST", "/cart/remove_item"),
    op("create_order", "POST", "/orders/create"),
    op("list_my_orders", "GET", "/orders"),
    op("list_all_orders", "GET", "/orders/all"),
    op("get_order", "GET", "/orders/{order_id}"),
    op("set_order_status", "PUT", "/orders/{order_id}/status"),
    op("pay_order", "POST", "/orders/{order_id}/pay"),
    op("cancel_order", "POST", "/orders/{order_id}/cancel"),
    op("refund_order", "POST", "/orders/{order_id}/refunds"),
    op("order_payments", "GET", "/orders/{order_id}/payments"),
    op("stripe_webhook", "POST", "/payments/stripe/webhook"),
    op("list_audit_entries", "GET", "/admin/audit"),
    op("list_webhooks", "GET", "/admin/webhooks"),
    op("create_webhook", "POST", "/admin/webhooks"),
    op("delete_webhook", "DELETE", "/admin/webhooks/{webhook_id}"),
    op("list_webhook_deliveries", "GET", "/admin/webhooks/{webhook_id}/deliveries"),
];

/// The operation named `id`.
///
/// # Panics
/// When the table has no such operation: a handler named after no operation is a bug that
/// every test building the function's router shows at once.
pub fn operation(id: &str) -> &'static Operation {
    OPERATIONS
        .iter()
        .find(|operation| operation.id == id)
        .unwrap_or_else(|| panic!("`{id}` names no operation in shared::http::OPERATIONS"))
}

/// `router` with the handler of operation `id` routed at its method and path (a path that
/// serves several methods gathers them).
pub fn route<H, T, S>(router: Router<S>, id: &str, handler: H) -> Router<S>
where
    H: Handler<T, S>,
    T: 'static,
    S: Clone + Send + Sync + 'static,
{
    let operation = operation(id);
    let method = match operation.method {
        "GET" => MethodFilter::GET,
        "POST" => MethodFilter::POST,
        "PUT" => MethodFilter::PUT,
        "DELETE" => MethodFilter::DELETE,
        other => panic!("`{id}`: no method filter for {other}"),
    };
    router.route(operation.path, on(method, handler))
}

/// A function's routes, from its handlers, each named after the operation it serves:
/// `operations! { list_products, get_product }` declares `OPERATIONS` (the ids it serves),
/// `routes()` (its routes without state, which the local server merges with the others')
/// and `router(state)` (the complete application, as Lambda serves it).
#[macro_export]
macro_rules! operations {
    ($($handler:ident),+ $(,)?) => {
        /// The operations this function serves (their ids in [`shared::http::OPERATIONS`]).
        pub const OPERATIONS: &[&str] = &[$(stringify!($handler)),+];

        /// The routes of this function, without state (the local server merges them with
        /// others).
        pub fn routes() -> ::axum::Router<$crate::AppState> {
            let router = ::axum::Router::new();
            $(let router = $crate::http::route(router, stringify!($handler), $handler);)+
            router
        }

        /// The complete application of this function, as Lambda serves it.
        pub fn router(state: $crate::AppState) -> ::axum::Router {
            $crate::http::app(routes(), state)
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_operation_is_listed_once_and_each_method_and_path_once() {
        let mut ids: Vec<_> = OPERATIONS.iter().map(|o| o.id).collect();
        let mut routes: Vec<_> = OPERATIONS.iter().map(|o| (o.method, o.path)).collect();
        ids.sort_unstable();
        ids.dedup();
        routes.sort_unstable();
        routes.dedup();
        assert_eq!((ids.len(), routes.len()), (OPERATIONS.len(), OPERATIONS.len()));
    }

    #[test]
    fn an_unknown_operation_is_refused_by_name() {
        let refused = std::panic::catch_unwind(|| operation("list_everything"));
        assert!(refused.is_err());
        assert_eq!(operation("get_order").path, "/orders/{order_id}");
    }

    #[tokio::test]
    async fn methods_on_one_path_are_gathered() {
        async fn ok() -> &'static str {
            "ok"
        }
        let router = route(Router::new(), "list_addresses", ok);
        let router = route(router, "add_address", ok);
        for method in ["GET", "POST"] {
            let request = axum::http::Request::builder()
                .method(method)
                .uri("/account/addresses")
                .body(axum::body::Body::empty())
                .expect("request");
            let answer = tower::ServiceExt::oneshot(router.clone(), request).await.expect("answer");
            assert_eq!(answer.status(), axum::http::StatusCode::OK, "{method}");
        }
    }
}

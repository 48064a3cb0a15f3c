"""Policy indicators and anonymised counts: the formula registry, seed 001's follow-up method, products and
policies, values entered by hand, the catalogue, plans imported from a file, counts with disclosure control
(stats), and exports. Coordinators read aggregates only; nothing here decrypts a victim's data."""
from caseapp.services.indicators.catalogue import (
    EDITABLE,
    get_product_by_id,
    list_all_products,
    step_kind_choices,
    update_product,
)
from caseapp.services.indicators.formulas import (
    FEMALE_IDENTITIES,
    FORMULAS,
    PARAMS,
    POPULATIONS,
    Formula,
    check_params,
    compute,
    count,
    params_of,
    stored_params,
    value,
    woman_clause,
    women_linked_conditions,
)
from caseapp.services.indicators.method import (
    GREEN,
    LIGHTS,
    RED,
    YELLOW,
    PeriodRow,
    ProductStatus,
    Summary,
    by_sector,
    capped,
    evaluate,
    light_counts,
    summarise_objective,
    summarise_policy,
    traffic_light,
)
from caseapp.services.indicators.periods import (
    Period,
    parse_as_of,
    parse_period,
    parse_year,
    periods_of_year,
)
from caseapp.services.indicators.products import (
    YearPoint,
    can_enter,
    dashboard,
    enter_value,
    get_policy,
    get_product,
    headline_product,
    history,
    list_policies,
    list_products,
    num,
    parse_decimal,
    policy_summary,
    product_dict,
    product_progress,
    require_reader,
    status_dict,
    summary_dict,
)

__all__ = [
    "EDITABLE", "FEMALE_IDENTITIES", "FORMULAS", "Formula", "PARAMS", "POPULATIONS", "check_params", "count", "params_of",
    "value", "GREEN", "LIGHTS", "Period", "PeriodRow",
    "ProductStatus", "RED", "Summary", "YELLOW", "YearPoint", "by_sector", "can_enter", "capped", "compute",
    "dashboard", "enter_value", "evaluate", "get_policy", "get_product", "get_product_by_id", "headline_product",
    "history", "light_counts", "list_all_products", "list_policies", "list_products", "num", "parse_as_of",
    "parse_decimal", "parse_period", "parse_year", "periods_of_year", "policy_summary", "product_dict",
    "product_progress", "require_reader", "status_dict", "step_kind_choices", "stored_params", "summarise_objective", "summarise_policy", "summary_dict",
    "traffic_light", "update_product", "woman_clause", "women_linked_conditions",
]

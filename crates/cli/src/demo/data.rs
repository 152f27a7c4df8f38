//! The demo marketplace's sellers and products: a dozen listings across
//! product types and charging modes, some in Chinese.

use serde_json::{Value, json};

pub struct Seller {
    pub name: &'static str,
    pub email: &'static str,
    pub onboarding: Value,
    pub certification: Value,
}

pub struct Product {
    /// Index into `sellers()`.
    pub seller: usize,
    /// Category slug from the seeded tree.
    pub category: &'static str,
    pub body: Value,
    pub skus: Vec<Value>,
}

pub fn sellers() -> Vec<Seller> {
    vec![
        Seller {
            name: "云栈科技有限公司",
            email: "isv@yunzhan.demo.mercato.test",
            onboarding: json!({
                "entity_type": "enterprise",
                "legal_name": "云栈科技有限公司",
                "registration_number": "91310115MA1K4DEMO1",
                "contact_name": "王芳",
                "contact_phone": "+86 21 6000 1234",
                "contact_email": "bd@yunzhan.demo.mercato.test",
                "address": "上海市浦东新区世纪大道 100 号",
                "support_hours": "周一至周五 09:00-18:00 (UTC+8)"
            }),
            certification: json!({
                "bank_name": "招商银行上海分行",
                "bank_account": "6214 8301 0000 4821",
                "account_holder": "云栈科技有限公司",
                "tax_rate_bp": 600,
                "currency": "CNY"
            }),
        },
        Seller {
            name: "Northwind Software Ltd",
            email: "isv@northwind.demo.mercato.test",
            onboarding: json!({
                "entity_type": "enterprise",
                "legal_name": "Northwind Software Ltd",
                "registration_number": "GB-09876543",
                "contact_name": "Alex Morgan",
                "contact_phone": "+44 20 7946 0958",
                "contact_email": "partners@northwind.demo.mercato.test",
                "address": "12 Fleet Street, London",
                "support_hours": "24x7"
            }),
            certification: json!({
                "bank_name": "Barclays",
                "bank_account": "GB29 NWBK 6016 1331 9268 19",
                "account_holder": "Northwind Software Ltd",
                "tax_rate_bp": 0,
                "currency": "CNY"
            }),
        },
    ]
}

/// The demo partner's onboarding and certification forms (the seller flow's).
pub fn partner_forms() -> (Value, Value) {
    let onboarding = json!({
        "entity_type": "enterprise",
        "legal_name": "渠道伙伴信息技术有限公司",
        "registration_number": "91440300MA5FDEMO2",
        "contact_name": "李明",
        "contact_phone": "+86 755 8000 5678",
        "contact_email": "bd@partner.demo.mercato.test",
        "address": "深圳市南山区科技园 8 号",
        "support_hours": "周一至周五 09:00-18:00 (UTC+8)"
    });
    let certification = json!({
        "bank_name": "中国银行深圳分行",
        "bank_account": "6217 8500 0000 7731",
        "account_holder": "渠道伙伴信息技术有限公司",
        "tax_rate_bp": 600,
        "currency": "CNY"
    });
    (onboarding, certification)
}

/// The access key of the demo's reference seller, which every demo SaaS
/// product's endpoint uses.
pub const SELLER_KEY: &str = "demo-access-key-0001";

fn product(name: &str, kind: &str, summary: &str, description: &str, tags: &[&str]) -> Value {
    json!({
        "type": kind,
        "cooperation": "joint",
        "name": name,
        "version": "1.0",
        "summary": summary,
        "description": description,
        "usage_guide": "After purchase, open the instance page for the sign-in address and credentials.",
        "support_terms": "Support by ticket within 4 working hours; 99.9% monthly availability.",
        "tags": tags,
    })
}

fn period(code: &str, name: &str, month: i64, year: i64) -> Value {
    json!({"sku_code": code, "name": name, "charging_mode": "period", "prices": {"month_minor": month, "year_minor": year}, "currency": "CNY"})
}

fn one_time(code: &str, name: &str, price: i64) -> Value {
    json!({"sku_code": code, "name": name, "charging_mode": "one_time", "prices": {"one_time_minor": price}, "currency": "CNY"})
}

fn on_demand(code: &str, name: &str, unit: &str, unit_price: &str, billing: &str) -> Value {
    json!({"sku_code": code, "name": name, "charging_mode": "on_demand", "currency": "CNY",
           "metering": {"unit": unit, "unit_price": unit_price, "billing": billing}})
}

fn package(code: &str, name: &str, quota: &str, months: i64, price: i64) -> Value {
    json!({"sku_code": code, "name": name, "charging_mode": "on_demand_pkg", "currency": "CNY",
           "package": {"quota": quota, "period_months": months, "price_minor": price}})
}

fn with(mut v: Value, key: &str, extra: Value) -> Value {
    v[key] = extra;
    v
}

/// The demo's products; SaaS ones and the license with a license
/// interface point at the reference seller at `seller_url` (the demo allows
/// plain HTTP to loopback). The others are delivered under supervision.
pub fn products(seller_url: &str) -> Vec<Product> {
    let saas = |mut body: Value| {
        body["endpoint"] = json!({"url": seller_url, "access_key": SELLER_KEY});
        body
    };
    vec![
        Product {
            seller: 0,
            category: "databases",
            body: saas(product(
                "云数据库 MySQL 企业版",
                "saas",
                "高可用云数据库，自动备份与秒级监控",
                "提供主备高可用、自动备份、按需扩容的托管 MySQL 数据库服务。",
                &["数据库", "MySQL", "高可用"],
            )),
            skus: vec![
                with(
                    with(period("rds-std", "标准版", 29_900, 299_000), "trial_days", json!(14)),
                    "linear",
                    json!({"name": "实例数", "unit": "个", "min": 1, "step": 1, "count": 100}),
                ),
                period("rds-ent", "企业版", 89_900, 899_000),
            ],
        },
        Product {
            seller: 0,
            category: "collaboration",
            body: saas(product(
                "智能客服机器人",
                "saas",
                "7x24 小时在线的 AI 客服",
                "基于大模型的智能客服，支持多渠道接入与知识库管理。",
                &["AI", "客服"],
            )),
            skus: vec![with(
                period("bot-seat", "坐席版", 9_900, 99_000),
                "linear",
                json!({"name": "坐席", "unit": "个", "min": 1, "step": 1, "count": 500}),
            )],
        },
        Product {
            seller: 0,
            category: "migration",
            body: product(
                "数据库迁移服务",
                "manual_service",
                "专家驻场的数据库迁移",
                "由认证工程师完成评估、迁移与割接，提供回退方案。",
                &["迁移", "数据库"],
            ),
            skus: vec![one_time("mig-basic", "基础迁移", 500_000), one_time("mig-pro", "专业迁移", 1_500_000)],
        },
        Product {
            seller: 0,
            category: "datasets",
            body: product(
                "零售行业消费数据集",
                "data_asset",
                "脱敏后的零售交易数据",
                "覆盖 30 个城市的零售交易样本，按月更新。",
                &["数据集", "零售"],
            ),
            skus: vec![one_time("retail-2026", "2026 年度数据", 2_000_000)],
        },
        Product {
            seller: 0,
            category: "network-security",
            body: saas(product(
                "网络安全态势感知平台",
                "saas",
                "统一的威胁检测与响应",
                "汇聚流量、日志与终端数据，实时发现攻击并自动处置。",
                &["安全", "SOC"],
            )),
            skus: vec![period("soc-std", "标准版", 199_900, 1_999_000)],
        },
        Product {
            seller: 0,
            category: "ai-models",
            body: product(
                "工业缺陷检测模型",
                "ai_asset",
                "开箱即用的视觉质检模型",
                "针对金属表面缺陷训练的视觉模型，支持私有化部署。",
                &["AI", "视觉", "质检"],
            ),
            skus: vec![one_time("defect-v1", "模型授权", 3_000_000)],
        },
        Product {
            seller: 1,
            category: "devops",
            body: saas(product(
                "DevOps Pipeline Pro",
                "saas",
                "Hosted CI/CD pipelines with approvals",
                "Build, test and deploy on every commit, with audit trails and manual approvals.",
                &["ci", "cd", "devops"],
            )),
            skus: vec![
                period("pipe-team", "Team", 4_900, 49_000),
                with(period("pipe-biz", "Business", 19_900, 199_000), "trial_days", json!(30)),
            ],
        },
        Product {
            seller: 1,
            category: "big-data",
            // Provisioned by the reference seller like the SaaS products: the
            // demo buyer's pay-per-use instance, with usage reported.
            body: saas(product(
                "Object Storage Gateway API",
                "api",
                "S3-compatible storage gateway, pay per GB",
                "An S3-compatible API in front of any object store, billed by stored GB per hour.",
                &["storage", "s3", "api"],
            )),
            skus: vec![on_demand("gw-gb", "Per GB-hour", "GB", "0.00015", "hourly")],
        },
        Product {
            seller: 1,
            category: "ai-platforms",
            body: product(
                "Neural Translation API",
                "api",
                "Fast machine translation for 40 languages",
                "Translate text between 40 languages; buy a package or pay per million characters.",
                &["translation", "ai", "api"],
            ),
            skus: vec![
                package("tr-10m", "10M characters", "10000000", 12, 150_000),
                on_demand("tr-payg", "Pay as you go", "million characters", "20", "daily"),
            ],
        },
        Product {
            seller: 1,
            category: "data-security",
            body: saas(product(
                "SecureVault License",
                "license",
                "Secrets manager for on-premises clusters",
                "A perpetual license for SecureVault with one year of updates; the code is issued by the seller's license server.",
                &["security", "license"],
            )),
            skus: vec![with(
                one_time("vault-node", "Per node", 120_000),
                "linear",
                json!({"name": "nodes", "unit": "node", "min": 3, "step": 1, "count": 298}),
            )],
        },
        Product {
            seller: 0,
            category: "migration",
            body: product(
                "数据库迁移实施服务",
                "manual_service",
                "专家上门完成数据库迁移，交付验收报告",
                "由认证工程师评估、迁移并校验您的数据库；交付后提供验收报告，经您确认验收后完成服务。",
                &["迁移", "实施服务", "数据库"],
            ),
            skus: vec![one_time("mig-std", "标准迁移（单库）", 280_000)],
        },
        Product {
            seller: 1,
            category: "operating-systems",
            body: product(
                "Hardened Ubuntu 24.04 Image",
                "image",
                "CIS-hardened Ubuntu image",
                "Ubuntu 24.04 LTS hardened to the CIS level 2 benchmark, billed per running hour.",
                &["linux", "image", "cis"],
            ),
            skus: vec![on_demand("ubuntu-hr", "Per instance-hour", "hour", "0.12", "hourly")],
        },
        Product {
            seller: 1,
            category: "middleware",
            body: product(
                "Kubernetes Ingress Controller",
                "container",
                "Production ingress for Kubernetes",
                "An ingress controller with WAF rules, rate limiting and automatic certificates.",
                &["kubernetes", "container"],
            ),
            skus: vec![period("ingress-cluster", "Per cluster", 29_900, 299_000)],
        },
        Product {
            seller: 1,
            category: "erp",
            body: saas(product(
                "ERP Cloud Suite",
                "saas",
                "Finance, inventory and orders in one place",
                "A cloud ERP for growing companies: ledgers, purchasing, inventory and sales.",
                &["erp", "finance"],
            )),
            skus: vec![with(
                period("erp-user", "Per user", 15_000, 150_000),
                "linear",
                json!({"name": "users", "unit": "user", "min": 5, "step": 5, "count": 200}),
            )],
        },
    ]
}

//! The one application error: every failure a user can see, with a stable code and status.

use crate::store::StoreError;

#[derive(Debug, Clone, thiserror::Error)]
pub enum AppError {
    #[error("请求格式错误：{0}")]
    BadRequest(String),
    #[error("请先登录")]
    Unauthenticated,
    #[error("用户名或密码错误")]
    BadCredentials,
    #[error("没有权限执行此操作")]
    Forbidden,
    #[error("请先修改初始密码")]
    PasswordChangeRequired,
    #[error("安全校验失败，请刷新页面后重试")]
    Csrf,
    #[error("未找到该资源")]
    NotFound,
    #[error("不支持该请求方法")]
    MethodNotAllowed,
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error("{message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("请求内容过大")]
    TooLarge,
    #[error("请求内容类型不受支持，请使用 {0}")]
    UnsupportedMedia(&'static str),
    #[error("尝试次数过多，请 {retry_after} 秒后再试")]
    Throttled { retry_after: u64 },
    #[error(
        "磁盘空间不足，暂时无法保存。已保存的数据不受影响，查询照常；请通知管理员清理磁盘，空间恢复后即可继续保存。"
    )]
    DiskFull,
    #[error("数据库正在自动恢复，请稍候几秒再试")]
    StorageUnavailable,
    #[error("服务器内部错误，请稍后重试或联系管理员")]
    Internal(String),
}

impl AppError {
    pub fn status(&self) -> u16 {
        match self {
            AppError::BadRequest(_) => 400,
            AppError::Unauthenticated | AppError::BadCredentials => 401,
            AppError::Forbidden | AppError::PasswordChangeRequired | AppError::Csrf => 403,
            AppError::NotFound => 404,
            AppError::MethodNotAllowed => 405,
            AppError::Conflict { .. } => 409,
            AppError::TooLarge => 413,
            AppError::UnsupportedMedia(_) => 415,
            AppError::Invalid { .. } => 422,
            AppError::Throttled { .. } => 429,
            AppError::DiskFull => 507,
            AppError::StorageUnavailable => 503,
            AppError::Internal(_) => 500,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::BadRequest(_) => "malformed",
            AppError::Unauthenticated => "unauthenticated",
            AppError::BadCredentials => "invalid_credentials",
            AppError::Forbidden => "forbidden",
            AppError::PasswordChangeRequired => "password_change_required",
            AppError::Csrf => "csrf",
            AppError::NotFound => "not_found",
            AppError::MethodNotAllowed => "method_not_allowed",
            AppError::Conflict { code, .. } => code,
            AppError::Invalid { .. } => "invalid_field",
            AppError::TooLarge => "too_large",
            AppError::UnsupportedMedia(_) => "unsupported_media_type",
            AppError::Throttled { .. } => "throttled",
            AppError::DiskFull => "disk_full",
            AppError::StorageUnavailable => "storage_unavailable",
            AppError::Internal(_) => "internal",
        }
    }

    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        AppError::Invalid {
            field,
            message: message.into(),
        }
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        AppError::Conflict {
            code,
            message: message.into(),
        }
    }

    /// The field a validation error belongs to, for showing it next to that field.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            AppError::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::DiskFull => AppError::DiskFull,
            StoreError::Unavailable => AppError::StorageUnavailable,
            other => AppError::Internal(other.to_string()),
        }
    }
}

macro_rules! invalid_from {
    ($($t:ty),*) => {$(
        impl From<$t> for AppError {
            fn from(e: $t) -> Self {
                AppError::Invalid { field: e.field(), message: e.to_string() }
            }
        }
    )*};
}
invalid_from!(
    crate::domain::user::UserInvalid,
    crate::domain::unit::UnitInvalid,
    crate::domain::settings::SettingsInvalid
);

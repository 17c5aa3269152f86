//! The ten exclusion codes (不予受理) and the default script read to the caller for each.

use serde::Serialize;

#[derive(Clone, Debug, Serialize)]
pub struct Exclusion {
    pub code: u8,
    pub label: &'static str,
    pub script: &'static str,
}

pub const EXCLUSIONS: [Exclusion; 10] = [
    Exclusion {
        code: 1,
        label: "非本县管辖",
        script: "您反映的事项不属于衡东县管辖范围，建议您向事项所在地的 12345 热线反映。",
    },
    Exclusion {
        code: 2,
        label: "涉军队、武警",
        script: "您反映的事项涉及军队、武警，不属于热线受理范围，请向相关部队或退役军人事务部门反映。",
    },
    Exclusion {
        code: 3,
        label: "应由110/119/120/122受理",
        script: "您反映的是紧急情况，请立即挂断后拨打对应紧急电话：治安 110、火警 119、急救 120、交通事故 122。我们也可以为您转接。",
    },
    Exclusion {
        code: 4,
        label: "国家秘密、商业秘密、个人隐私",
        script: "您咨询的内容涉及国家秘密、商业秘密或他人隐私，依法不能提供，请您理解。",
    },
    Exclusion {
        code: 5,
        label: "违反法律法规和公序良俗",
        script: "您提出的要求违反法律法规或公序良俗，热线不予受理，请您理解。",
    },
    Exclusion {
        code: 6,
        label: "已进入诉讼、仲裁、行政审批、行政复议、政府信息公开、信访等程序",
        script: "您反映的事项已进入法定程序，请按该程序继续办理：诉讼请联系受理法院，仲裁请联系仲裁机构，行政复议请向复议机关提出，信访事项请到县信访局。",
    },
    Exclusion {
        code: 7,
        label: "属党委、人大、政协管辖",
        script: "您反映的事项属于党委、人大或政协的职责范围，建议您向相关机关反映。",
    },
    Exclusion {
        code: 8,
        label: "重复诉求且无新情况新理由",
        script: "您反映的事项此前已经受理并答复，本次没有新的情况和理由，我们不再重复受理。如有新情况请告诉我们。",
    },
    Exclusion {
        code: 9,
        label: "骚扰电话",
        script: "本热线是为群众办事的公共服务热线，请勿占用热线资源。",
    },
    Exclusion {
        code: 10,
        label: "其他 / 内容不具体无法办理",
        script: "您反映的内容不够具体，我们无法转交办理。请补充时间、地点、具体事项后再联系我们。",
    },
];

/// The name of an exclusion code.
pub fn label(code: u8) -> &'static str {
    EXCLUSIONS
        .iter()
        .find(|e| e.code == code)
        .map_or("其他", |e| e.label)
}

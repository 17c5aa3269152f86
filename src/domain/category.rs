//! The category tree (诉求分类, up to three levels), a setting the admin edits.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Category {
    pub code: String,
    pub name: String,
    pub parent: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Categories {
    pub items: Vec<Category>,
}

impl Categories {
    pub fn get(&self, code: &str) -> Option<&Category> {
        self.items.iter().find(|c| c.code == code)
    }

    /// `一级 / 二级 / 三级` for display.
    pub fn path(&self, code: &str) -> String {
        let mut names = Vec::new();
        let mut cur = self.get(code);
        while let Some(c) = cur {
            names.push(c.name.clone());
            cur = c.parent.as_deref().and_then(|p| self.get(p));
            if names.len() > 3 {
                break;
            }
        }
        names.reverse();
        names.join(" / ")
    }
}

impl Default for Categories {
    fn default() -> Self {
        let top = [
            ("01", "人力资源和社会保障"),
            ("02", "住房和城乡建设"),
            ("03", "医疗卫生健康"),
            ("04", "农林畜牧水利"),
            ("05", "市场监管"),
            ("06", "交通运输与交通秩序"),
            ("07", "公共服务与生活公用"),
            ("08", "社会治安与综合治理"),
            ("09", "科教文体"),
            ("10", "城市管理"),
            ("11", "民政与社会救助"),
            ("12", "生态环境"),
            ("13", "自然资源与国土"),
            ("14", "企业服务"),
            ("15", "其他"),
        ];
        let second = [
            ("0101", "01", "社保缴纳与待遇"),
            ("0102", "01", "劳资纠纷与欠薪"),
            ("0201", "02", "物业管理"),
            ("0202", "02", "房屋质量与交付"),
            ("0401", "04", "农田水利"),
            ("0402", "04", "惠农补贴"),
            ("0501", "05", "食品安全"),
            ("0502", "05", "消费维权"),
            ("0701", "07", "供水"),
            ("0702", "07", "供电"),
            ("0703", "07", "燃气"),
            ("0704", "07", "通信网络"),
            ("1001", "10", "占道经营"),
            ("1002", "10", "噪音扰民"),
            ("1003", "10", "环境卫生"),
            ("1201", "12", "大气污染"),
            ("1202", "12", "水污染"),
        ];
        let mut items: Vec<Category> = top
            .iter()
            .map(|(c, n)| Category {
                code: (*c).into(),
                name: (*n).into(),
                parent: None,
            })
            .collect();
        items.extend(second.iter().map(|(c, p, n)| Category {
            code: (*c).into(),
            name: (*n).into(),
            parent: Some((*p).into()),
        }));
        Categories { items }
    }
}

//! The texts the catalog bench measures `analyse` on, shared with the
//! test that pins `analyse`'s output on them (`src/catalog/pinned.rs`), so
//! the text the speed is measured on is the text whose output is pinned.
//! Deterministic: the generators are seeded, every run the same text.

/// ~1 MB of text dense with mentions: news-like lines naming known
/// versions, new versions of known families, comparisons and figures.
pub fn news() -> String {
    const LINES: &[&str] = &[
        "2024年9月19日，阿里云发布通义千问新一代开源模型Qwen2.5，其中Qwen2.5-72B拥有720亿参数，性能超越Llama-3.1-405B。",
        "DeepSeek-V3 has 671B total parameters, of which 37B are active, and outperforms GPT-4o on several benchmarks. ",
        "百度发布文心大模型4.5，讯飞星火V4.0同步上线，智谱推出GLM-4-9B-Chat，采用Apache-2.0许可证。",
        "Meta released Llama 3 on April 18, 2024; the company says Llama-3-70B rivals Gemini 1.5 Pro and Claude 3 Sonnet. ",
        "The weights are at https://huggingface.co/Qwen/Qwen2.5-7B-Instruct and run on an A100 or H800. ",
    ];
    let mut s = String::with_capacity(1 << 20);
    let mut i = 0usize;
    while s.len() < 1 << 20 {
        s.push_str(LINES[i % LINES.len()]);
        s.push_str(&format!("（第{i}条）\n"));
        i += 1;
    }
    s
}

/// ~1 MB of ordinary Chinese tech and business news: most sentences name
/// no model; one in a few names a vendor or a model, now and then with a
/// version, a size or a date (the text a page source usually yields).
pub fn chinese_news() -> String {
    const PARAGRAPHS: &[&str] = &[
        "本报讯 记者从市工业和信息化局获悉，今年前三季度全市规模以上工业增加值同比增长百分之六点二，其中电子信息制造业增速居各行业之首。业内人士表示，随着新一轮设备更新政策落地，企业技术改造投资明显加快，预计四季度仍将保持平稳增长。",
        "在昨天举行的人工智能产业论坛上，多家企业展示了大模型在政务、医疗和教育领域的应用。阿里云介绍，通义千问已服务超过数万家企业客户；百度则表示，文心一言的日均调用量持续上升。与会专家提醒，行业应用仍面临数据质量和算力成本等现实问题。",
        "受寒潮影响，本周末全省大部地区将出现明显降温，最低气温可降至零下五摄氏度。气象部门提醒市民注意防寒保暖，出行前关注道路结冰预警信息，农业生产单位要提前做好大棚蔬菜的保温工作。",
        "据了解，该公司今年研发投入占营业收入的比重超过百分之十五，累计申请专利一千二百余项。公司负责人介绍，未来三年将继续加大在芯片设计、工业软件和新能源材料等方向的投入，并在长三角地区新建两个研发中心。",
        "2024年9月，阿里云在云栖大会上发布了Qwen2.5系列模型，其中Qwen2.5-72B-Instruct在多项评测中表现突出。同月，智谱发布了GLM-4-Plus，月之暗面的Kimi也上线了新功能。分析人士认为，国内大模型厂商的竞争正从参数规模转向应用落地。",
        "市交通运输部门通报，地铁五号线南延段已完成全部土建工程，正在进行设备安装和系统调试，预计明年上半年开通试运营。届时，沿线居民前往市中心的通勤时间将缩短二十分钟左右。",
        "今年以来，消费市场持续回暖，餐饮、文旅和体育消费成为新的增长点。商务部门数据显示，国庆假期全市重点商圈客流量同比增长百分之十八，夜间消费占比进一步提高，不少商家延长了营业时间。",
        "DeepSeek在技术报告中披露，DeepSeek-V3采用混合专家架构，总参数量为6710亿，每个token激活370亿参数。报告同时对比了GPT-4o和Claude 3.5 Sonnet的表现，引发开发者社区广泛讨论。",
        "教育部门近日印发通知，要求各地中小学进一步规范课后服务，合理控制学生书面作业总量，保障学生每天校内外体育活动时间不少于两小时。通知还鼓励学校开设科学探究、艺术和劳动教育等特色课程。",
        "一位券商分析师在接受采访时说，新能源汽车出口保持较快增长，但海外市场的贸易壁垒有所增加，企业需要加快本地化布局。他同时提到，动力电池原材料价格已回落至近三年低位，产业链利润分配正在重新调整。",
        "华为在开发者大会上介绍了盘古大模型5.0的新能力，并表示将与更多行业伙伴共建解决方案。字节跳动旗下的豆包大模型也宣布降价，每千tokens的推理价格降至0.0008元，引发业内关注。",
        "本市今年将新建和改造城市公园二十个，新增绿道一百公里。园林部门表示，新建公园将更多考虑老人和儿童的使用需求，增加健身步道、休息座椅和无障碍设施，部分公园还将试点夜间开放。",
        "Meanwhile, the city council approved a budget for road repairs and school renovations, and local businesses reported steady sales over the holiday weekend. Officials said the new bus routes would start next month.",
        "在金融领域，多家银行表示正在测试将大模型用于客服、风控和投研报告撰写，但出于合规考虑，核心业务仍需人工复核。一家城商行的技术负责人说，他们目前主要采用开源模型进行私有化部署，并在内部数据上做了微调。",
    ];
    let mut s = String::with_capacity(1 << 20);
    let mut i = 0usize;
    while s.len() < 1 << 20 {
        s.push_str(PARAGRAPHS[i % PARAGRAPHS.len()]);
        s.push('\n');
        i += 1;
    }
    s
}

/// ~1 MB shaped like `scripts/bench_pages.py`'s article text (what
/// `scripts/bench` analyses): every sentence names a vendor and a model from
/// a fixed list, with a clause of figures. Seeded, so every run is the same.
pub fn bench_pages() -> String {
    const VENDORS: &[&str] = &[
        "百度",
        "阿里巴巴",
        "腾讯",
        "字节跳动",
        "智谱AI",
        "月之暗面",
        "百川智能",
        "科大讯飞",
        "华为",
        "商汤科技",
        "MiniMax",
        "零一万物",
        "深度求索",
        "昆仑万维",
        "出门问问",
        "OpenAI",
        "谷歌",
        "Meta",
        "Anthropic",
        "微软",
    ];
    const MODELS: &[&str] = &[
        "文心一言",
        "通义千问",
        "混元",
        "豆包",
        "ChatGLM",
        "GLM-4",
        "Kimi",
        "百川2",
        "星火",
        "盘古",
        "日日新",
        "abab6.5",
        "Yi-34B",
        "DeepSeek-V2",
        "天工",
        "序列猴子",
        "GPT-4",
        "Gemini",
        "Llama 3",
        "Claude 3",
    ];
    const TOPICS: &[&str] = &[
        "大模型",
        "多模态",
        "推理能力",
        "长文本",
        "智能体",
        "算力",
        "开源生态",
        "行业应用",
        "安全对齐",
        "端侧部署",
        "训练数据",
        "商业化",
        "API价格",
        "评测基准",
        "代码生成",
    ];
    const VERBS: &[&str] =
        &["发布了", "升级了", "开源了", "推出了", "公布了", "更新了", "下调了", "上线了", "展示了", "宣布了"];
    const OBJECTS: &[&str] = &[
        "新一代基座模型",
        "面向企业的解决方案",
        "最新的技术报告",
        "多模态理解能力",
        "超长上下文版本",
        "代码助手",
        "开发者平台",
        "推理加速方案",
        "行业大模型",
        "训练框架",
    ];
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    let mut s = String::with_capacity(1 << 20);
    while s.len() < 1 << 20 {
        let (vendor, model) = (VENDORS[next(VENDORS.len())], MODELS[next(MODELS.len())]);
        let clause = match next(10) {
            0 => format!("参数规模达到{}亿", 7 + next(18000)),
            1 => format!("上下文窗口扩展到{}K tokens", [8, 32, 128, 200, 1000][next(5)]),
            2 => "在多项中文评测中取得领先成绩".to_owned(),
            3 => format!("推理成本较上一代下降了{}%", 10 + next(81)),
            4 => format!("已经服务超过{}万家企业客户", 1 + next(500)),
            5 => "支持图像、音频和视频的联合理解".to_owned(),
            6 => format!("训练数据覆盖{}万亿tokens", 1 + next(20)),
            7 => format!("将在{}月向全部开发者开放", 1 + next(12)),
            8 => format!("API调用价格降至每千tokens {}分", 1 + next(12)),
            _ => "在数学推理和代码生成方面明显增强".to_owned(),
        };
        let (topic, object) = (TOPICS[next(TOPICS.len())], OBJECTS[next(OBJECTS.len())]);
        match next(4) {
            0 => s.push_str(&format!("{vendor}{}{model}的{object}，{clause}。", VERBS[next(VERBS.len())])),
            1 => s.push_str(&format!(
                "据了解，{model}在{topic}方面持续投入，{clause}，业内人士认为这将加速{}的落地。",
                TOPICS[next(TOPICS.len())]
            )),
            2 => s.push_str(&format!("{topic}仍是{vendor}今年的重点，其{object}{clause}。")),
            _ => s.push_str(&format!(
                "分析师指出，{vendor}与{}在{topic}上的竞争日趋激烈，{model}{clause}。",
                VENDORS[next(VENDORS.len())]
            )),
        }
        if next(4) == 0 {
            s.push('\n');
        }
    }
    s
}

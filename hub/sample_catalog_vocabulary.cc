#include "hub/sample_catalog_vocabulary.h"

#include <algorithm>
#include <cstdio>
#include <iterator>
#include <utility>

#include "catalogs/taxonomy.h"

namespace tiersync::hub::sample_catalog_internal {

const std::vector<std::pair<std::string_view, std::string_view>>& EditionPublishers() {
  static const auto* v = new std::vector<std::pair<std::string_view, std::string_view>>{
      {"国家统编", "人民教育出版社"},
      {"人教版", "人民教育出版社"},
      {"北京版", "北京出版社"},
      {"苏教版", "江苏凤凰教育出版社"},
      {"北师大版", "北京师范大学出版社"},
      {"教科版", "教育科学出版社"},
      {"外研版", "外语教学与研究出版社"},
      {"沪教版", "上海教育出版社"},
      {"湘教版", "湖南教育出版社"},
      {"冀教版", "河北教育出版社"},
      {"鲁教版", "山东教育出版社"},
      {"浙教版", "浙江教育出版社"},
      {"粤教版", "广东教育出版社"},
      {"译林版", "译林出版社"},
      {"华东师大版", "华东师范大学出版社"},
      {"青岛版", "青岛出版社"},
      {"西师大版", "西南师范大学出版社"},
      {"科学版", "科学出版社"},
      {"川教版", "四川教育出版社"},
  };
  return *v;
}

std::string_view PublisherOf(std::string_view edition) {
  for (const auto& [e, p] : EditionPublishers()) {
    if (e == edition) return p;
  }
  return "人民教育出版社";
}

const std::vector<Subject>& Subjects() {
  // clang-format off
  static const auto* v = new std::vector<Subject>{
      {"语文", 1, 6, 20, {"国家统编"},
       {"找春天", "小蝌蚪找妈妈", "曹冲称象", "古诗三首", "草船借箭", "少年中国说（节选）",
        "桂林山水", "落花生", "狼牙山五壮士", "开国大典", "匆匆", "穷人"}},
      {"语文", 7, 9, 20, {"国家统编"},
       {"春", "济南的冬天", "背影", "桃花源记", "岳阳楼记", "沁园春·雪", "木兰诗", "紫藤萝瀑布",
        "藤野先生", "孔乙己", "观沧海", "出师表"}},
      {"语文", 10, 12, 20, {"国家统编"},
       {"沁园春·长沙", "荷塘月色", "劝学", "师说", "赤壁赋", "故都的秋", "烛之武退秦师", "祝福",
        "雷雨（节选）", "登高", "琵琶行并序", "归去来兮辞"}},
      {"数学", 1, 6, 20,
       {"人教版", "北师大版", "苏教版", "北京版", "冀教版", "青岛版", "西师大版"},
       {"20以内的进位加法", "认识钟表", "表内乘法", "长方形和正方形", "分数的初步认识",
        "小数的意义", "三角形的内角和", "多边形的面积", "百分数", "圆的面积", "比例",
        "鸡兔同笼"}},
      {"数学", 7, 9, 20,
       {"人教版", "北师大版", "华东师大版", "湘教版", "浙教版", "沪教版", "冀教版", "青岛版",
        "鲁教版"},
       {"有理数", "整式的加减", "一元一次方程", "相交线与平行线", "二元一次方程组", "三角形",
        "全等三角形", "勾股定理", "一次函数", "二次函数", "圆", "相似三角形"}},
      {"数学", 10, 12, 20, {"人教版", "北师大版", "苏教版", "湘教版", "沪教版"},
       {"集合的概念", "函数的单调性", "指数函数", "对数函数", "三角函数的概念", "平面向量",
        "复数", "立体几何初步", "数列", "导数及其应用", "概率", "统计"}},
      {"英语", 3, 6, 14,
       {"人教版", "外研版", "译林版", "北师大版", "冀教版", "沪教版", "湘教版", "川教版",
        "北京版", "科学版"},
       {"Hello!", "My school", "Colours", "Animals", "My family", "Weather", "At the farm",
        "Shopping", "My day", "Seasons", "Food and drinks", "Sports"},
       true},
      {"英语", 7, 9, 14,
       {"人教版", "外研版", "译林版", "北师大版", "冀教版", "沪教版", "鲁教版", "湘教版",
        "川教版", "科学版"},
       {"Making friends", "Where's my schoolbag?", "Can you play the guitar?", "Our festivals",
        "Travelling", "Healthy lifestyle", "Amazing animals", "Future plans"},
       true},
      {"英语", 10, 12, 14, {"人教版", "外研版", "译林版", "北师大版", "沪教版"},
       {"Teenage life", "Cultural heritage", "Space exploration", "Environmental protection",
        "Great scientists", "Music", "Wildlife protection", "Festivals and celebrations"},
       true},
      {"道德与法治", 1, 9, 6, {"国家统编"},
       {"我是小学生啦", "我们的班级", "家人的爱", "我们的公共生活", "中学时代", "友谊的天空",
        "遵守社会规则", "维护国家利益", "坚持宪法至上", "建设美丽中国"}},
      {"思想政治", 10, 12, 6, {"国家统编"},
       {"中国特色社会主义", "经济与社会", "政治与法治", "哲学与文化", "当代国际政治与经济",
        "法律与生活"}},
      {"科学", 1, 6, 6, {"教科版", "苏教版", "人教版", "冀教版", "青岛版", "粤教版"},
       {"植物", "动物", "我们的身体", "水", "空气", "天气", "声音", "光", "电路", "地球与宇宙",
        "物质的变化", "简单机械"}},
      {"科学", 7, 9, 2, {"浙教版", "华东师大版"},
       {"观察生物", "物质的特性", "运动和力", "电路探秘", "生物的新陈代谢", "地球的运动"}},
      {"物理", 8, 12, 8, {"人教版", "沪教版", "北师大版", "教科版", "粤教版", "鲁教版"},
       {"机械运动", "声现象", "光现象", "透镜及其应用", "质量与密度", "力", "压强", "浮力",
        "欧姆定律", "电功率", "牛顿运动定律", "动量守恒定律", "电磁感应", "机械能守恒定律"}},
      {"化学", 9, 12, 7, {"人教版", "沪教版", "鲁教版", "科学版"},
       {"走进化学世界", "我们周围的空气", "物质构成的奥秘", "化学方程式", "碳和碳的氧化物",
        "金属和金属材料", "溶液", "酸和碱", "物质的量", "化学反应速率", "有机化合物",
        "元素周期律"}},
      {"生物学", 7, 12, 6, {"人教版", "北师大版", "苏教版", "冀教版"},
       {"生物和生物圈", "细胞是生命活动的基本单位", "绿色植物", "人体的营养",
        "生物的遗传和变异", "细胞的分子组成", "光合作用", "遗传与进化", "稳态与调节",
        "生态系统"}},
      {"历史", 7, 12, 6, {"国家统编"},
       {"中华文明的起源", "秦统一中国", "三国两晋南北朝", "隋唐盛世", "宋元时期", "明清时期",
        "鸦片战争", "辛亥革命", "新民主主义革命", "中华人民共和国的成立", "改革开放",
        "古代文明的产生与发展"}},
      {"地理", 7, 12, 5, {"人教版", "湘教版", "鲁教版", "粤教版"},
       {"地球和地图", "陆地和海洋", "天气与气候", "居民与聚落", "中国的疆域",
        "中国的自然环境", "区域发展", "地球上的大气", "地球上的水", "人口与城镇", "自然灾害",
        "区域协调发展"}},
      {"信息科技", 3, 9, 3, {"浙教版", "川教版", "粤教版", "华东师大版", "教科版"},
       {"在线学习与生活", "数据与编码", "身边的算法", "过程与控制", "互联网应用与创新",
        "物联网实践", "人工智能与智慧社会"}},
      {"信息技术", 10, 12, 3, {"浙教版", "粤教版", "沪教版", "教科版"},
       {"数据与计算", "信息系统与社会", "算法与程序设计", "网络基础", "数据管理与分析",
        "人工智能初步"}},
      {"通用技术", 10, 12, 2, {"苏教版", "粤教版"},
       {"技术与设计", "结构与设计", "流程与设计", "系统与设计", "控制与设计"}},
      {"音乐", 1, 9, 3, {"人教版", "湘教版", "苏教版", "北京版"},
       {"小雨沙沙", "彼得与狼", "我们的田野", "民歌欣赏", "京剧唱段欣赏", "合唱与指挥",
        "中国民族乐器"}},
      {"美术", 1, 9, 3, {"人教版", "湘教版", "苏教版", "浙教版", "北京版"},
       {"色彩的感觉", "造型游戏", "中国画", "剪纸", "设计应用", "欣赏评述", "手工制作"}},
      {"艺术", 10, 12, 2, {"人教版", "湘教版"},
       {"音乐鉴赏", "美术鉴赏", "戏剧表演", "舞蹈", "书法"}},
      {"体育与健康", 1, 12, 3, {"人教版", "华东师大版"},
       {"队列队形", "跳绳", "广播体操", "篮球", "足球", "田径", "武术", "健康生活方式"}},
      {"劳动", 1, 9, 2, {"人教版", "北师大版", "苏教版"},
       {"整理书包", "洗衣服", "烹饪与营养", "种植", "木工", "家用电器维护"}},
      {"日语", 7, 12, 1, {"人教版"}, {"问候与介绍", "学校生活", "日本的四季", "节日与文化"}},
      {"俄语", 7, 12, 1, {"人教版"}, {"问候与介绍", "我的家庭", "学校生活", "俄罗斯文化"}},
  };
  // clang-format on
  return *v;
}

const std::vector<CategoryTopics>& SpecialTopics() {  // 专题教育
  static const auto* v = new std::vector<CategoryTopics>{
      {"党史学习",
       {"中国共产党的创立", "伟大的长征", "遵义会议", "抗日战争的胜利", "开国大典",
        "改革开放的伟大历程", "红船精神", "井冈山精神", "延安精神", "党史故事100讲"}},
      {"爱国主义教育",
       {"国旗国徽国歌的故事", "英雄人物的故事", "两弹一星精神", "载人航天精神", "抗美援朝精神",
        "大国工匠", "家乡的变化", "中华民族一家亲"}},
      {"宪法法治教育",
       {"宪法知识学习", "未成年人保护法解读", "预防校园欺凌", "民法典与我们的生活",
        "网络安全法入门", "国家安全教育", "青少年模拟法庭"}},
      {"品德教育",
       {"诚实守信", "孝亲敬老", "文明礼仪", "勤俭节约", "团结友爱", "尊师重教", "学习雷锋精神"}},
      {"劳动教育",
       {"整理与收纳", "家常菜烹饪", "校园种植", "传统工艺制作", "职业体验", "劳动创造美好生活"}},
      {"中华优秀传统文化教育",
       {"二十四节气", "中国传统节日", "书法入门", "京剧艺术", "中华诗词之美", "传统建筑",
        "剪纸艺术", "中医药文化", "汉字的故事"}},
      {"生命与安全教育",
       {"防溺水安全教育", "交通安全知识", "地震逃生与自救", "消防安全常识", "新冠肺炎疫情防控知识",
        "食品安全", "防范电信网络诈骗", "预防性侵害", "暑期安全提示", "急救知识"}},
      {"心理健康教育",
       {"认识情绪与管理情绪", "如何应对考试焦虑", "疫情期间的心理调适", "与父母有效沟通",
        "学会交朋友", "认识自我", "压力管理", "网络成瘾的预防", "居家学习心理指导"}},
      {"生态文明教育",
       {"垃圾分类从我做起", "节约用水", "保护野生动物", "碳达峰与碳中和", "湿地保护", "绿色出行",
        "美丽中国建设"}},
  };
  return *v;
}

std::string_view AfterSchoolFor(std::string_view special_category) {
  if (special_category == "党史学习" || special_category == "宪法法治教育") return "影视教育";
  if (special_category == "爱国主义教育" || special_category == "劳动教育") return "研学实践";
  if (special_category == "品德教育") return "经典阅读";
  if (special_category == "中华优秀传统文化教育") return "文化艺术";
  return "科普教育";
}

bool IsPriorityCategory(std::string_view category) {
  return category == "心理健康教育" || category == "生命与安全教育";
}

const std::vector<CategoryTopics>& AfterSchoolTopics() {  // 课后服务
  static const auto* v = new std::vector<CategoryTopics>{
      {"科普教育",
       {"神奇的宇宙", "恐龙的秘密", "趣味物理实验", "人工智能初探", "海洋里的生物", "天宫课堂",
        "走进中国空间站", "植物的一生"}},
      {"体育锻炼", {"居家体能训练", "跳绳教学", "广播体操", "篮球基本功", "足球入门", "亲子运动"}},
      {"文化艺术",
       {"走进故宫", "中国民乐欣赏", "儿童画创作", "合唱训练", "舞蹈入门", "戏曲进校园"}},
      {"经典阅读",
       {"《西游记》导读", "《红楼梦》导读", "《论语》选读", "唐诗宋词选读", "名著阅读指导",
        "《朝花夕拾》导读"}},
      {"研学实践", {"走进国家博物馆", "长城研学", "红色研学路线", "自然博物馆探秘", "科技馆研学"}},
      {"影视教育", {"优秀影片赏析", "红色经典电影", "纪录片里的中国", "动画片里的科学"}},
  };
  return *v;
}

std::string_view AfterSchoolProvider(Random& rng, std::string_view category) {
  static const auto* v = new std::vector<std::pair<std::string_view, Strings>>{
      {"科普教育", {"中国科学技术馆", "中国科普研究所"}},
      {"体育锻炼", {"北京体育大学", "上海体育学院"}},
      {"文化艺术", {"故宫博物院", "中央音乐学院"}},
      {"经典阅读", {"国家图书馆", "人民文学出版社"}},
      {"研学实践", {"中国国家博物馆", "中国科学技术馆"}},
      {"影视教育", {"中国教育电视台", "中国电影资料馆"}},
  };
  for (const auto& [c, providers] : *v) {
    if (c == category) return Pick(rng, providers);
  }
  return "中央电化教育馆";
}

const std::vector<CategoryTopics>& TeacherTopics() {  // 教师研修
  static const auto* v = new std::vector<CategoryTopics>{
      {"思政师德", {"新时代教师职业行为准则", "师德榜样故事", "立德树人的实践", "教育家精神"}},
      {"通识研修",
       {"信息技术应用能力提升", "班主任工作艺术", "教育心理学基础", "家校沟通技巧",
        "课堂管理策略"}},
      {"学科研修", {"新课标解读", "大单元教学设计", "课堂教学案例分析", "跨学科主题学习"}},
      {"作业命题", {"作业设计与实施", "“双减”背景下的作业优化", "命题技术与试题评价"}},
      {"幼教研修", {"幼儿园游戏活动设计", "幼小衔接指导", "幼儿行为观察"}},
      {"特教研修", {"融合教育实践", "孤独症儿童教育", "特殊教育课程调整"}},
  };
  return *v;
}

const std::vector<CategoryTopics>& FamilyTopics() {  // 家庭教育
  static const auto* v = new std::vector<CategoryTopics>{
      {"家庭教育观念", {"做智慧父母", "家庭教育促进法解读", "父母是孩子的第一任老师"}},
      {"家庭教育方法",
       {"如何培养孩子的阅读习惯", "亲子沟通技巧", "帮助孩子管理时间", "合理使用电子产品"}},
      {"家庭教育指导",
       {"青春期家庭教育指导", "幼小衔接家长课堂", "居家学习家长指导", "“双减”背景下的家庭教育"}},
  };
  return *v;
}

const std::vector<CategoryTopics>& ReformTopics() {  // 教改实践经验
  static const auto* v = new std::vector<CategoryTopics>{
      {"党建德育", {"党建引领学校发展", "大中小学思政课一体化"}},
      {"落实“双减”", {"课后服务全覆盖", "作业总量和时长调控", "校外培训治理"}},
      {"学前教育", {"普惠性幼儿园建设", "幼小科学衔接"}},
      {"义务教育", {"集团化办学", "教师交流轮岗", "县域义务教育优质均衡"}},
      {"普通高中教育", {"新课程新教材实施", "选课走班", "县中振兴"}},
      {"特殊教育", {"随班就读", "送教上门"}},
      {"教学成果", {"基础教育国家级教学成果奖案例", "课堂教学改革"}},
      {"教育信息化",
       {"智慧教育示范区建设", "双师课堂", "国家平台应用推广", "教学点数字资源全覆盖"}},
      {"综合改革", {"“县管校聘”改革", "教育评价改革"}},
  };
  return *v;
}

const std::vector<std::pair<std::string_view, std::string_view>>& ReformRegions() {
  static const auto* v = new std::vector<std::pair<std::string_view, std::string_view>>{
      {"北京市海淀区", "北京市海淀区教育委员会"},
      {"上海市", "上海市教育委员会"},
      {"江苏省", "江苏省教育厅"},
      {"浙江省", "浙江省教育厅"},
      {"安徽省", "安徽省教育厅"},
      {"福建省", "福建省教育厅"},
      {"江西省", "江西省教育厅"},
      {"河南省", "河南省教育厅"},
      {"四川省成都市", "成都市教育局"},
      {"青海省", "青海省教育厅"},
      {"河北省", "河北省教育厅"},
      {"广东省深圳市", "深圳市教育局"},
  };
  return *v;
}

const std::vector<MultiBoard>& MultiBoards() {
  static const auto* v = new std::vector<MultiBoard>{
      {"体育",
       {{"体育课程", {"田径", "篮球", "排球", "武术", "健美操"}},
        {"运动技能", {"跳绳技巧", "游泳基础", "乒乓球"}},
        {"体育竞赛", {"校园足球联赛精彩集锦", "全国学生运动会"}},
        {"健康服务", {"运动损伤的预防", "青少年近视防控", "科学健身"}}},
       {"北京体育大学", "上海体育学院", "国家体育总局体育科学研究所"}},
      {"美育",
       {{"艺术课程", {"中国画基础", "合唱艺术", "民族舞蹈"}},
        {"艺术特长", {"钢琴入门", "书法进阶"}},
        {"艺术展演", {"全国大中小学生艺术展演"}},
        {"专项展示", {"非遗传承展示", "高雅艺术进校园"}}},
       {"中央美术学院", "中央音乐学院", "中国美术学院"}},
      {"劳动教育",
       {{"劳动光荣", {"劳模故事", "大国工匠"}},
        {"劳动导航", {"职业生涯规划", "劳动安全"}},
        {"劳动智慧", {"传统农耕", "手工技艺", "智能制造体验"}}},
       {"中国劳动关系学院", "中国农业大学"}},
  };
  return *v;
}

LinkSite SiteOf(size_t theme, size_t k) {
  char num[8];
  std::snprintf(num, sizeof(num), "%02zu", theme + k * std::size(kLinkThemes) + 1);
  return {"示例" + std::string(kLinkThemes[theme]) + "网站" + num,
          "https://site" + std::string(num) + ".example.edu.cn/"};
}

const Strings& GradeNames() {
  static const auto* v =
      new Strings{"",       "一年级", "二年级", "三年级", "四年级", "五年级", "六年级",
                  "七年级", "八年级", "九年级", "高一",   "高二",   "高三"};
  return *v;
}

const Strings& SeniorVolumes(int grade) {
  static const auto* v = new std::vector<Strings>{
      {"必修 第一册", "必修 第二册"},
      {"必修 第三册", "选择性必修 第一册", "选择性必修 第二册"},
      {"选择性必修 第三册", "选修 第一册"},
  };
  return (*v)[grade - 10];
}

const CategoryTopics& FindCategory(const std::vector<CategoryTopics>& list,
                                   std::string_view category) {
  for (const CategoryTopics& c : list) {
    if (c.category == category) return c;
  }
  return list.front();
}

std::string StageOfGrade(int grade) {
  for (const catalogs::Stage& s : catalogs::Taxonomy::Builtin().stages()) {
    if (grade >= s.first_grade && grade <= s.last_grade) return s.name;
  }
  return "";
}

namespace {

// Shares in thousandths; they sum to 1000.
constexpr std::pair<Kind, uint64_t> kMix[] = {
    {Kind::kLesson, 715},     {Kind::kTextbook, 60},   {Kind::kSpecial, 50},
    {Kind::kAfterSchool, 40}, {Kind::kTeacher, 50},    {Kind::kFamily, 20},
    {Kind::kReform, 30},      {Kind::kMultiBoard, 30}, {Kind::kLink, 5},
};

}  // namespace

std::vector<Kind> KindMix(uint64_t count, Random& rng) {
  std::vector<uint64_t> n;
  std::vector<std::pair<uint64_t, size_t>> remainders;  // (remainder, index)
  uint64_t total = 0;
  for (size_t i = 0; i < std::size(kMix); ++i) {
    n.push_back(count * kMix[i].second / 1000);
    total += n.back();
    remainders.push_back({count * kMix[i].second % 1000, i});
  }
  std::stable_sort(remainders.begin(), remainders.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  for (size_t i = 0; total < count; ++i, ++total) ++n[remainders[i].second];
  std::vector<Kind> kinds;
  kinds.reserve(count);
  for (size_t i = 0; i < std::size(kMix); ++i) kinds.insert(kinds.end(), n[i], kMix[i].first);
  Shuffle(rng, &kinds);
  return kinds;
}

}  // namespace tiersync::hub::sample_catalog_internal

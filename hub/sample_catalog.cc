#include "hub/sample_catalog.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <set>
#include <unordered_set>
#include <utility>

#include "base/bytes.h"
#include "base/random.h"
#include "base/sha256.h"
#include "catalogs/region_table.h"
#include "catalogs/resource.h"
#include "catalogs/taxonomy.h"
#include "hub/sample_media.h"
#include "protocol/json_fields.h"

namespace tiersync::hub {
namespace {

using catalogs::ExternalLink;
using catalogs::Placement;
using catalogs::RecordSource;
using catalogs::Resource;
using catalogs::ResourceFile;
using protocol::Json;
using Strings = std::vector<std::string_view>;

constexpr std::string_view kVideoType = "video/mp4";
constexpr std::string_view kPdfType = "application/pdf";
constexpr std::string_view kPptxType =
    "application/vnd.openxmlformats-officedocument.presentationml.presentation";
constexpr uint64_t kMiB = 1 << 20;
constexpr uint64_t kMinFileBytes = 64;
constexpr size_t kCopyBlock = 1 << 20;
// Revision r is presented as the catalog of year kFirstYear + r (edited titles say "2023年修订").
constexpr int kFirstYear = 2021;

// ---------------------------------------------------------------------------------------------
// Seeds. Everything random is drawn from a Random seeded by Mix(catalog seed, what it is for), so
// a resource's content depends only on (seed, id) and a revision's choices on (seed, revision).

uint64_t Fnv1a(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

uint64_t Mix(uint64_t a, uint64_t b) {
  uint64_t state = a;
  state = SplitMix64(state) ^ b;
  return SplitMix64(state);
}

uint64_t Mix(uint64_t a, std::string_view s) { return Mix(a, Fnv1a(s)); }

uint64_t Between(Random& rng, uint64_t lo, uint64_t hi) { return lo + rng.Uniform(hi - lo + 1); }
bool Percent(Random& rng, uint64_t p) { return rng.Uniform(100) < p; }
template <class T>
const T& Pick(Random& rng, const std::vector<T>& v) {
  return v[rng.Uniform(v.size())];
}
template <class T>
void Shuffle(Random& rng, std::vector<T>* v) {
  for (size_t i = v->size(); i > 1; --i) std::swap((*v)[i - 1], (*v)[rng.Uniform(i)]);
}

// ---------------------------------------------------------------------------------------------
// Vocabulary.

// The publisher of each of the 19 textbook editions of the taxonomy.
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

// A subject as taught in a range of grades: which editions publish it there, and lesson topics.
struct Subject {
  std::string_view name;
  int first_grade, last_grade;
  uint64_t weight;
  Strings editions;
  Strings topics;
  bool units = false;  // lessons are "Unit n ..." (English) rather than "第n课 ..."
};

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

// Topics (and providers) of the categories of the boards other than 课程教学.
struct CategoryTopics {
  std::string_view category;
  Strings topics;
};

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

// The 课后服务 category a 专题教育 category's items may also be placed in.
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

// Regions reporting practice, with their education authority.
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

// The version-2 boards that sit in the k12, vocational and higher platforms at once.
struct MultiBoard {
  std::string_view board;
  std::vector<CategoryTopics> categories;
  Strings providers;
};

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

// The 60 external professional sites the platform links to, as obviously-sample names and
// example.edu.cn hosts: five sites for each of twelve themes, site NN having theme (NN-1) % 12.
constexpr std::string_view kLinkThemes[] = {"科普", "数字博物馆", "数字图书馆", "天文",
                                            "地理", "生物",       "艺术",       "体育",
                                            "法治", "安全",       "心理",       "编程"};
constexpr size_t kLinkSites = 60;

struct LinkSite {
  std::string name;
  std::string url;
};

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

// Volume of the books of a senior-high grade ("必修 第一册" ...).
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

// ---------------------------------------------------------------------------------------------
// The mix of resources.

enum class Kind {
  kLesson,
  kTextbook,
  kSpecial,
  kAfterSchool,
  kTeacher,
  kFamily,
  kReform,
  kMultiBoard,
  kLink,
};

// Shares in thousandths; they sum to 1000.
constexpr std::pair<Kind, uint64_t> kMix[] = {
    {Kind::kLesson, 715},     {Kind::kTextbook, 60},   {Kind::kSpecial, 50},
    {Kind::kAfterSchool, 40}, {Kind::kTeacher, 50},    {Kind::kFamily, 20},
    {Kind::kReform, 30},      {Kind::kMultiBoard, 30}, {Kind::kLink, 5},
};

// `count` kinds in the shares of kMix (largest remainder), in random order.
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

// ---------------------------------------------------------------------------------------------
// One resource: its record, and what its files are to hold.

struct FileSpec {
  std::string name;
  std::string media_type;
  SampleKind kind;
  uint64_t size;
};

struct Draft {
  Resource r;
  std::vector<FileSpec> files;
};

class Maker {
 public:
  Maker(uint64_t seed, double size_scale) : seed_(seed), size_scale_(size_scale) {}

  // Marks an (edition, subject, volume) as having its e-textbook already.
  void NoteTextbook(const Resource& r) { textbooks_.insert(TextbookKey(r.facets)); }

  Draft Make(Kind kind, const std::string& id) {
    Random rng(Mix(seed_, id));
    Draft d;
    d.r.id = id;
    switch (kind) {
      case Kind::kLesson:
        Lesson(rng, &d);
        break;
      case Kind::kTextbook:
        Textbook(rng, &d);
        break;
      case Kind::kSpecial:
        Special(rng, &d);
        break;
      case Kind::kAfterSchool:
        AfterSchool(rng, &d);
        break;
      case Kind::kTeacher:
        Teacher(rng, &d);
        break;
      case Kind::kFamily:
        Family(rng, &d);
        break;
      case Kind::kReform:
        Reform(rng, &d);
        break;
      case Kind::kMultiBoard:
        Multi(rng, &d);
        break;
      case Kind::kLink:
        Link(rng, &d);
        break;
    }
    return d;
  }

 private:
  static std::string TextbookKey(const catalogs::Facets& f) {
    return f.edition + "|" + f.subject + "|" + f.volume;
  }

  uint64_t Size(Random& rng, uint64_t lo_mib, uint64_t hi_mib) const {
    uint64_t real = Between(rng, lo_mib * kMiB, hi_mib * kMiB);
    auto scaled = static_cast<uint64_t>(std::llround(static_cast<double>(real) * size_scale_));
    return std::max(kMinFileBytes, scaled);
  }
  FileSpec Video(Random& rng, std::string name) const {
    return {std::move(name), std::string(kVideoType), SampleKind::kMedia, Size(rng, 50, 500)};
  }
  FileSpec Pdf(Random& rng, std::string name) const {
    return {std::move(name), std::string(kPdfType), SampleKind::kText, Size(rng, 5, 100)};
  }
  FileSpec Pptx(Random& rng, std::string name) const {
    return {std::move(name), std::string(kPptxType), SampleKind::kText, Size(rng, 1, 50)};
  }

  // A grade, then a subject taught in it (by weight), then an edition publishing it there.
  static const Subject& PickSubject(Random& rng, int grade) {
    uint64_t total = 0;
    for (const Subject& s : Subjects()) {
      if (grade >= s.first_grade && grade <= s.last_grade) total += s.weight;
    }
    uint64_t x = rng.Uniform(total);
    for (const Subject& s : Subjects()) {
      if (grade < s.first_grade || grade > s.last_grade) continue;
      if (x < s.weight) return s;
      x -= s.weight;
    }
    return Subjects().front();
  }

  static std::string Volume(Random& rng, int grade) {
    std::string name(GradeNames()[grade]);
    if (grade >= 10) return name + " " + std::string(Pick(rng, SeniorVolumes(grade)));
    return name + (Percent(rng, 50) ? "上册" : "下册");
  }

  // Stage, grade, subject, edition and volume of a 课程教学 resource; its placement.
  static const Subject& Course(Random& rng, Draft* d) {
    int grade = static_cast<int>(Between(rng, 1, 12));
    const Subject& s = PickSubject(rng, grade);
    catalogs::Facets& f = d->r.facets;
    f.stage = StageOfGrade(grade);
    f.grade = grade;
    f.subject = s.name;
    f.edition = Pick(rng, s.editions);
    f.volume = Volume(rng, grade);
    d->r.provider = PublisherOf(f.edition);
    d->r.placements = {{"k12", "课程教学", f.stage}};
    return s;
  }

  void Lesson(Random& rng, Draft* d) const {
    const Subject& s = Course(rng, d);
    catalogs::Facets& f = d->r.facets;
    std::string number = std::to_string(Between(rng, 1, s.units ? 12 : 24));
    std::string_view topic = Pick(rng, s.topics);
    f.lesson = s.units ? "Unit " + number + " " + std::string(topic)
                       : "第" + number + "课 " + std::string(topic);
    static const Strings periods = {"第一课时", "第二课时", "第三课时"};
    d->r.title = f.lesson + "（" + std::string(Pick(rng, periods)) + "）";
    f.tags = {"同步课程", f.subject, std::string(GradeNames()[f.grade])};
    if (Percent(rng, 20)) f.tags.push_back("名师课堂");
    d->files.push_back(Video(rng, "lesson.mp4"));
    if (Percent(rng, 70)) d->files.push_back(Pptx(rng, "courseware.pptx"));
    if (Percent(rng, 30)) d->files.push_back(Pdf(rng, "exercises.pdf"));
  }

  void Textbook(Random& rng, Draft* d) {
    // One e-textbook per edition x subject x volume while unused ones are easy to find.
    for (int attempt = 0; attempt < 8; ++attempt) {
      d->r.facets = {};
      Course(rng, d);
      if (textbooks_.insert(TextbookKey(d->r.facets)).second) break;
    }
    catalogs::Facets& f = d->r.facets;
    std::string volume = f.volume;
    if (f.grade >= 10) volume = volume.substr(volume.find(' ') + 1);  // "高一 必修 第一册"
    d->r.title = (f.grade >= 10 ? "普通高中教科书·" : "义务教育教科书·") + f.subject + " " + volume;
    f.tags = {"电子教材", f.subject, f.edition};
    d->files.push_back(Pdf(rng, "textbook.pdf"));
  }

  // Optional stage facet for boards not tied to a stage.
  static void MaybeStage(Random& rng, Draft* d) {
    if (Percent(rng, 40)) d->r.facets.stage = StageOfGrade(static_cast<int>(Between(rng, 1, 12)));
  }

  static std::string Lecture(Random& rng, std::string_view topic) {
    return std::string(topic) + " 第" + std::to_string(Between(rng, 1, 12)) + "讲";
  }

  void Special(Random& rng, Draft* d) const {
    const CategoryTopics& c = Pick(rng, SpecialTopics());
    d->r.placements = {{"k12", "专题教育", std::string(c.category)}};
    if (Percent(rng, 30)) {
      d->r.placements.push_back({"k12", "课后服务", std::string(AfterSchoolFor(c.category))});
    }
    d->r.title = Lecture(rng, Pick(rng, c.topics));
    static const Strings providers = {"中央电化教育馆", "中央电化教育馆", "中央电化教育馆",
                                      "中国教育电视台", "人民教育出版社", "中国教育科学研究院"};
    d->r.provider = Pick(rng, providers);
    MaybeStage(rng, d);
    d->r.facets.tags = {"专题教育", std::string(c.category)};
    if (IsPriorityCategory(c.category)) {
      d->r.priority = true;
      d->r.facets.tags.push_back("停课不停学");
    }
    d->files.push_back(Video(rng, "video.mp4"));
    if (Percent(rng, 40)) d->files.push_back(Pdf(rng, "guide.pdf"));
  }

  void AfterSchool(Random& rng, Draft* d) const {
    const CategoryTopics& c = Pick(rng, AfterSchoolTopics());
    d->r.placements = {{"k12", "课后服务", std::string(c.category)}};
    d->r.title = Lecture(rng, Pick(rng, c.topics));
    d->r.provider = AfterSchoolProvider(rng, c.category);
    MaybeStage(rng, d);
    d->r.facets.tags = {"课后服务", std::string(c.category)};
    if (Percent(rng, 50)) d->r.facets.tags.push_back("“双减”");
    d->files.push_back(Video(rng, "video.mp4"));
  }

  void Teacher(Random& rng, Draft* d) const {
    const CategoryTopics& c = Pick(rng, TeacherTopics());
    d->r.placements = {{"k12", "教师研修", std::string(c.category)}};
    std::string title(Pick(rng, c.topics));
    if (c.category == "学科研修") {
      int grade = static_cast<int>(Between(rng, 1, 12));
      const Subject& s = PickSubject(rng, grade);
      d->r.facets.stage = StageOfGrade(grade);
      d->r.facets.subject = s.name;
      title = d->r.facets.stage + std::string(s.name) + title;  // 初中数学大单元教学设计
    }
    d->r.title = title;
    static const Strings providers = {"中国教育科学研究院", "国家教育行政学院",
                                      "北京师范大学",       "华东师范大学",
                                      "东北师范大学",       "教育部课程教材研究所"};
    d->r.provider = Pick(rng, providers);
    d->r.facets.tags = {"教师研修", std::string(c.category), "暑期教师研修"};
    d->files.push_back(Video(rng, "video.mp4"));
    if (Percent(rng, 50)) d->files.push_back(Pptx(rng, "slides.pptx"));
  }

  void Family(Random& rng, Draft* d) const {
    const CategoryTopics& c = Pick(rng, FamilyTopics());
    d->r.placements = {{"k12", "家庭教育", std::string(c.category)}};
    d->r.title = Lecture(rng, Pick(rng, c.topics));
    static const Strings providers = {"中国家庭教育学会", "中华全国妇女联合会", "中国儿童中心"};
    d->r.provider = Pick(rng, providers);
    MaybeStage(rng, d);
    d->r.facets.tags = {"家庭教育", "家长课堂"};
    d->files.push_back(Video(rng, "video.mp4"));
  }

  void Reform(Random& rng, Draft* d) const {
    const CategoryTopics& c = Pick(rng, ReformTopics());
    const auto& [region, authority] = Pick(rng, ReformRegions());
    d->r.placements = {{"k12", "教改实践经验", std::string(c.category)}};
    d->r.title = std::string(region) + "：" + std::string(Pick(rng, c.topics));
    d->r.provider = authority;
    d->r.facets.tags = {"教改实践经验", std::string(c.category), std::string(region)};
    d->files.push_back(Video(rng, "video.mp4"));
    if (Percent(rng, 60)) d->files.push_back(Pdf(rng, "report.pdf"));
  }

  void Multi(Random& rng, Draft* d) const {
    const MultiBoard& b = Pick(rng, MultiBoards());
    const CategoryTopics& c = Pick(rng, b.categories);
    std::string board(b.board), category(c.category);
    d->r.placements = {{"k12", board, category}};
    if (Percent(rng, 67)) {
      d->r.placements.push_back({"vocational", board, category});
      d->r.placements.push_back({"higher", board, category});
    } else {
      d->r.placements.push_back({Percent(rng, 50) ? "vocational" : "higher", board, category});
    }
    d->r.title = Lecture(rng, Pick(rng, c.topics));
    d->r.provider = Pick(rng, b.providers);
    d->r.facets.tags = {board, category};
    d->files.push_back(Video(rng, "video.mp4"));
  }

  void Link(Random& rng, Draft* d) const {
    // Where links are placed, and the themes (indexes into kLinkThemes) of fitting sites.
    static const std::vector<std::pair<Placement, std::vector<size_t>>> places = {
        {{"k12", "课后服务", "科普教育"}, {0, 3, 4, 5, 11}},
        {{"k12", "课后服务", "文化艺术"}, {1, 6}},
        {{"k12", "课后服务", "经典阅读"}, {2}},
        {{"k12", "课后服务", "体育锻炼"}, {7}},
        {{"k12", "教师研修", "学科研修"}, {0, 1, 2, 3, 4, 5, 6, 11}},
        {{"k12", "专题教育", "生态文明教育"}, {4, 5}},
        {{"k12", "专题教育", "中华优秀传统文化教育"}, {1, 2, 6}},
        {{"k12", "专题教育", "宪法法治教育"}, {8}},
        {{"k12", "专题教育", "生命与安全教育"}, {9}},
        {{"k12", "专题教育", "心理健康教育"}, {10}},
    };
    const auto& [p, themes] = Pick(rng, places);
    const LinkSite site =
        SiteOf(Pick(rng, themes), rng.Uniform(kLinkSites / std::size(kLinkThemes)));
    const std::vector<CategoryTopics>& list = p.board == "课后服务"   ? AfterSchoolTopics()
                                              : p.board == "教师研修" ? TeacherTopics()
                                                                      : SpecialTopics();
    d->r.placements = {p};
    d->r.title = site.name + "：" + std::string(Pick(rng, FindCategory(list, p.category).topics));
    d->r.provider = site.name;
    d->r.priority = IsPriorityCategory(p.category);
    d->r.facets.tags = {"外部资源", p.category};
    d->r.link = ExternalLink{site.url + "resources/" + d->r.id.substr(4) + ".html", site.name};
  }

  uint64_t seed_;
  double size_scale_;
  std::set<std::string> textbooks_;
};

// ---------------------------------------------------------------------------------------------
// Files.

std::string RecordPath(const std::string& dir, std::string_view id) {
  return JoinPath(JoinPath(dir, "resources"), std::string(id) + ".json");
}
std::string MediaDir(const std::string& dir, std::string_view id) {
  return JoinPath(JoinPath(dir, "media"), id);
}

// Writes without fsync (see the header comment). With `replace`, beside and renamed over.
Status WriteFast(Env* env, const std::string& path, std::string_view data, bool replace) {
  const std::string target = replace ? path + ".tmp" : path;
  TS_ASSIGN_OR_RETURN(auto file, env->NewWritableFile(target));
  TS_RETURN_IF_ERROR(file->Append(AsBytes(data)));
  TS_RETURN_IF_ERROR(file->Close());
  if (replace) return env->RenameFile(target, path);
  return Status::Ok();
}

uint64_t FileSeed(uint64_t seed, std::string_view id, std::string_view name) {
  return Mix(Mix(seed, id), name);
}

// Writes the draft's media and record; fills in the files' sizes and digests.
Status WriteDraft(Env* env, const std::string& dir, uint64_t seed, Draft* d, bool replace,
                  uint64_t* bytes_written) {
  if (!d->files.empty()) TS_RETURN_IF_ERROR(CreateDirs(env, MediaDir(dir, d->r.id)));
  Sha256Hasher hasher;
  for (const FileSpec& spec : d->files) {
    const std::string path = JoinPath(MediaDir(dir, d->r.id), spec.name);
    const std::string target = replace ? path + ".tmp" : path;
    TS_ASSIGN_OR_RETURN(auto file, env->NewWritableFile(target));
    TS_RETURN_IF_ERROR(
        GenerateSample(spec.kind, spec.size, FileSeed(seed, d->r.id, spec.name), [&](ByteSpan b) {
          hasher.Update(b);
          return file->Append(b);
        }));
    TS_RETURN_IF_ERROR(file->Close());
    if (replace) TS_RETURN_IF_ERROR(env->RenameFile(target, path));
    *bytes_written += spec.size;
    ResourceFile f;
    f.name = spec.name;
    f.media_type = spec.media_type;
    f.size = spec.size;
    f.sha256 = hasher.Finish();
    d->r.files.push_back(std::move(f));
  }
  // A generator bug must not produce a catalog that `hub publish` refuses.
  TS_RETURN_IF_ERROR(catalogs::ValidateResource(d->r, catalogs::Taxonomy::Builtin(),
                                                catalogs::RegionTable::Builtin()));
  return WriteFast(env, RecordPath(dir, d->r.id), catalogs::EncodeResource(d->r), replace);
}

// Issues ids "k12-" + 8 hex digits never issued before in this catalog.
class IdSource {
 public:
  explicit IdSource(uint64_t seed) : rng_(seed) {}
  void Note(std::string id) { used_.insert(std::move(id)); }
  std::string Next() {
    for (;;) {
      char buf[16];
      std::snprintf(buf, sizeof(buf), "k12-%08x", static_cast<unsigned>(rng_.Next() >> 32));
      if (used_.insert(buf).second) return buf;
    }
  }

 private:
  Random rng_;
  std::unordered_set<std::string> used_;
};

// ---------------------------------------------------------------------------------------------
// generator.json

struct GeneratorState {
  uint64_t seed = 0;
  uint64_t resources = 0;
  double size_scale = 0;
  int revision = 0;
};

// Shortest decimal that reads back as the same double: "0.0001", or "1e-30" when long.
std::string FormatScale(double scale) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof(buf), scale, std::chars_format::fixed);
  if (r.ec != std::errc()) r = std::to_chars(buf, buf + sizeof(buf), scale);
  return std::string(buf, r.ptr);
}

Status CheckOptions(uint64_t resources, uint64_t seed, double size_scale) {
  if (resources == 0 || resources > kMaxSampleResources) {
    return InvalidArgumentError("resources must be 1 to " + std::to_string(kMaxSampleResources) +
                                ", not " + std::to_string(resources));
  }
  if (seed > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return InvalidArgumentError("seed must be at most " +
                                std::to_string(std::numeric_limits<int64_t>::max()));
  }
  if (!(size_scale > 0 && size_scale <= 1)) {
    return InvalidArgumentError("size scale must be in (0, 1], not " + FormatScale(size_scale));
  }
  return Status::Ok();
}

Status WriteGeneratorJson(Env* env, const std::string& dir, const GeneratorState& g) {
  Json j = Json::Object();
  j.Set("format", std::string(kSampleCatalogFormat));
  j.Set("seed", g.seed);
  j.Set("resources", g.resources);
  j.Set("size_scale", FormatScale(g.size_scale));
  j.Set("revision", g.revision);
  return WriteFileAtomically(env, JoinPath(dir, "generator.json"), AsBytes(EncodePretty(j)));
}

Result<GeneratorState> ReadGeneratorJson(Env* env, const std::string& dir) {
  const std::string path = JoinPath(dir, "generator.json");
  if (!env->FileExists(path)) {
    return NotFoundError(path + ": not found (not a catalog written by `tiersync demo generate`)");
  }
  TS_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, ReadFileToBytes(env, path, 64 << 10));
  Result<Json> v = protocol::ParseJson(AsChars(bytes));
  if (!v.ok()) return CorruptionError(path + ": " + v.status().message());
  protocol::JsonFields f(*v, path, StatusCode::kCorruption, "");
  TS_RETURN_IF_ERROR(f.IsObject());
  TS_RETURN_IF_ERROR(f.OnlyKnown({"format", "seed", "resources", "size_scale", "revision"}));
  TS_ASSIGN_OR_RETURN(std::string format, f.String("format"));
  if (format != kSampleCatalogFormat) {
    return f.Bad(f.Field("format"),
                 "is \"" + format + "\", expected \"" + std::string(kSampleCatalogFormat) + "\"");
  }
  GeneratorState g;
  TS_ASSIGN_OR_RETURN(g.seed, f.Uint("seed", 0));
  TS_ASSIGN_OR_RETURN(g.resources, f.Uint("resources", 1));
  TS_ASSIGN_OR_RETURN(std::string scale, f.String("size_scale"));
  auto [end, ec] = std::from_chars(scale.data(), scale.data() + scale.size(), g.size_scale);
  if (ec != std::errc() || end != scale.data() + scale.size()) {
    return f.Bad(f.Field("size_scale"), "\"" + scale + "\" is not a decimal number");
  }
  TS_ASSIGN_OR_RETURN(uint64_t revision, f.Uint("revision", 1));
  if (revision >= static_cast<uint64_t>(std::numeric_limits<int>::max())) {
    return f.Bad(f.Field("revision"), "is too large");
  }
  g.revision = static_cast<int>(revision);
  Status s = CheckOptions(g.resources, g.seed, g.size_scale);
  if (!s.ok()) return f.Bad(path, s.message());
  return g;
}

Status WriteChanges(Env* env, const std::string& dir, const CatalogChanges& c) {
  return WriteFileAtomically(env, JoinPath(dir, "changes.json"),
                             AsBytes(EncodePretty(CatalogChangesToJson(c))));
}

Result<bool> NonEmptyDir(Env* env, const std::string& path) {
  if (!env->FileExists(path)) return false;
  TS_ASSIGN_OR_RETURN(std::vector<std::string> children, env->GetChildren(path));
  return !children.empty();
}

// ---------------------------------------------------------------------------------------------
// Revisions.

Result<Resource> ReadRecord(Env* env, const std::string& dir, std::string_view id) {
  const std::string path = RecordPath(dir, id);
  TS_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes,
                      ReadFileToBytes(env, path, catalogs::kMaxResourceBytes + 1));
  Result<Resource> r = catalogs::ParseResource(AsChars(bytes), path, RecordSource::kInput);
  if (!r.ok()) return CorruptionError(r.status().message());
  if (r->id != id) return CorruptionError(path + ": holds resource " + r->id);
  return r;
}

// What planning a revision needs to know of a resource.
struct Entry {
  std::string id;
  bool video = false;    // has a video/mp4 file
  bool doc = false;      // has a PDF or courseware file
  bool movable = false;  // see Movable()
};

bool IsDoc(const ResourceFile& f) { return f.media_type == kPdfType || f.media_type == kPptxType; }

const catalogs::Board* BoardOf(const Placement& p) {
  return catalogs::Taxonomy::Builtin().FindBoard(p.platform, p.board);
}

// Not priority, first placed in a k12 board (not 课程教学, whose categories are stages) with
// another non-priority category to move to.
bool Movable(const Resource& r) {
  if (r.priority || r.placements.empty()) return false;
  const Placement& p = r.placements.front();
  if (p.platform != "k12" || p.board == "课程教学") return false;
  const catalogs::Board* board = BoardOf(p);
  return board != nullptr && board->categories.size() > 1 && !IsPriorityCategory(p.category);
}

// Changes the placements only: a 专题教育 item is also placed in 课后服务, or the first
// placement's category (in every platform holding that board) becomes another one.
void Move(Random& rng, Resource* r) {
  const Placement first = r->placements.front();
  if (first.board == "专题教育" && r->placements.size() == 1 && Percent(rng, 50)) {
    r->placements.push_back({"k12", "课后服务", std::string(AfterSchoolFor(first.category))});
    return;
  }
  std::vector<std::string> others;
  for (const std::string& c : BoardOf(first)->categories) {
    if (c != first.category && !IsPriorityCategory(c)) others.push_back(c);
  }
  const std::string to = Pick(rng, others);
  for (Placement& p : r->placements) {
    if (p.board == first.board && p.category == first.category) p.category = to;
  }
  // Defensive: a record never lists a placement twice.
  std::vector<Placement> unique;
  for (const Placement& p : r->placements) {
    if (std::find(unique.begin(), unique.end(), p) == unique.end()) unique.push_back(p);
  }
  r->placements = std::move(unique);
}

// Title and tags carry the year of the revision: "（2023年修订）", tag "2023年修订".
void Edit(int revision, Resource* r) {
  const std::string year = std::to_string(kFirstYear + revision) + "年修订";
  constexpr std::string_view kSuffixEnd = "年修订）";
  if (r->title.ends_with(kSuffixEnd)) {
    size_t open = r->title.rfind("（");
    if (open != std::string::npos) r->title.resize(open);
  }
  r->title += "（" + year + "）";
  std::erase_if(r->facets.tags, [](const std::string& t) { return t.ends_with("年修订"); });
  if (r->facets.tags.size() >= catalogs::kMaxTags) r->facets.tags.pop_back();
  r->facets.tags.push_back(year);
}

// Rewrites media file `path` (recorded as `file`) with `extra` bytes of sample content inserted
// at `offset` (== size: appended), beside and renamed over. Checks the old bytes against the
// record; updates `file`.
Status Splice(Env* env, const std::string& path, ResourceFile* file, uint64_t offset,
              SampleKind kind, uint64_t extra, uint64_t seed) {
  TS_ASSIGN_OR_RETURN(uint64_t size, env->GetFileSize(path));
  if (size != file->size) {
    return CorruptionError(path + ": " + std::to_string(size) + " bytes, its record says " +
                           std::to_string(file->size));
  }
  TS_ASSIGN_OR_RETURN(auto in, env->NewSequentialFile(path));
  const std::string tmp = path + ".tmp";
  TS_ASSIGN_OR_RETURN(auto out, env->NewWritableFile(tmp));
  Sha256Hasher old_hash, new_hash;
  auto put = [&](ByteSpan b) {
    new_hash.Update(b);
    return out->Append(b);
  };
  std::vector<uint8_t> buf(kCopyBlock);
  // Copies up to `end` bytes of the old file (position `*pos`) to the new one.
  uint64_t pos = 0;
  auto copy_until = [&](uint64_t end) -> Status {
    while (pos < end) {
      size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), end - pos));
      TS_ASSIGN_OR_RETURN(size_t n, in->Read(MutableByteSpan(buf.data(), want)));
      if (n == 0) return CorruptionError(path + ": shorter than its record says");
      ByteSpan b(buf.data(), n);
      old_hash.Update(b);
      TS_RETURN_IF_ERROR(put(b));
      pos += n;
    }
    return Status::Ok();
  };
  TS_RETURN_IF_ERROR(copy_until(offset));
  TS_RETURN_IF_ERROR(GenerateSample(kind, extra, seed, put));
  TS_RETURN_IF_ERROR(copy_until(size));
  if (old_hash.Finish() != file->sha256) {
    env->RemoveFile(tmp).IgnoreError();
    return CorruptionError(path + ": does not match the sha256 of its record");
  }
  TS_RETURN_IF_ERROR(out->Close());
  TS_RETURN_IF_ERROR(env->RenameFile(tmp, path));
  file->size = size + extra;
  file->sha256 = new_hash.Finish();
  return Status::Ok();
}

uint64_t Share(uint64_t live, uint64_t permille) {
  uint64_t n = (live * permille + 500) / 1000;
  return std::max<uint64_t>(n, live >= 100 ? 1 : 0);
}

std::vector<std::string> Sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

}  // namespace

protocol::Json CatalogChangesToJson(const CatalogChanges& c) {
  Json j = Json::Object();
  j.Set("format", std::string(kSampleChangesFormat));
  j.Set("revision", c.revision);
  j.Set("resources", c.resources);
  auto list = [](const std::vector<std::string>& ids) {
    Json a = Json::Array();
    for (const std::string& id : ids) a.Push(id);
    return a;
  };
  j.Set("added", list(c.added));
  j.Set("changed", list(c.changed));
  j.Set("retired", list(c.retired));
  j.Set("moved", list(c.moved));
  j.Set("edited", list(c.edited));
  j.Set("inserted", list(c.inserted));
  j.Set("appended", list(c.appended));
  return j;
}

Result<CatalogChanges> GenerateCatalog(Env* env, const std::string& dir,
                                       const CatalogGenOptions& options) {
  TS_RETURN_IF_ERROR(CheckOptions(options.resources, options.seed, options.size_scale));
  if (env->FileExists(JoinPath(dir, "generator.json"))) {
    return AlreadyExistsError(dir +
                              " already holds a catalog (generator.json); use "
                              "--next-release to revise it, or remove it");
  }
  for (const char* sub : {"resources", "media"}) {
    TS_ASSIGN_OR_RETURN(bool busy, NonEmptyDir(env, JoinPath(dir, sub)));
    if (busy) {
      return AlreadyExistsError(JoinPath(dir, sub) +
                                " is not empty (an interrupted generation?); remove it first");
    }
  }
  TS_RETURN_IF_ERROR(CreateDirs(env, JoinPath(dir, "resources")));
  TS_RETURN_IF_ERROR(CreateDirs(env, JoinPath(dir, "media")));

  const uint64_t seed = options.seed;
  Random mix_rng(Mix(seed, "mix 1"));
  const std::vector<Kind> kinds = KindMix(options.resources, mix_rng);
  IdSource ids(Mix(seed, "ids 1"));
  Maker maker(seed, options.size_scale);
  CatalogChanges changes;
  changes.revision = 1;
  changes.added.reserve(kinds.size());
  for (size_t i = 0; i < kinds.size(); ++i) {
    Draft d = maker.Make(kinds[i], ids.Next());
    TS_RETURN_IF_ERROR(WriteDraft(env, dir, seed, &d, /*replace=*/false, &changes.bytes_written));
    changes.added.push_back(d.r.id);
    if (options.progress) options.progress(i + 1, kinds.size());
  }
  std::sort(changes.added.begin(), changes.added.end());
  changes.resources = changes.added.size();
  TS_RETURN_IF_ERROR(WriteChanges(env, dir, changes));
  TS_RETURN_IF_ERROR(WriteGeneratorJson(
      env, dir, {seed, options.resources, options.size_scale, changes.revision}));
  return changes;
}

Result<CatalogChanges> GenerateNextRelease(Env* env, const std::string& dir,
                                           std::function<void(uint64_t, uint64_t)> progress) {
  TS_ASSIGN_OR_RETURN(GeneratorState g, ReadGeneratorJson(env, dir));
  const int revision = g.revision + 1;
  const std::string rev = " " + std::to_string(revision);

  // What is there: every record, in id order.
  TS_ASSIGN_OR_RETURN(std::vector<std::string> names, env->GetChildren(JoinPath(dir, "resources")));
  std::sort(names.begin(), names.end());
  IdSource ids(Mix(g.seed, "ids" + rev));
  Maker maker(g.seed, g.size_scale);
  std::vector<Entry> live;
  uint64_t records = 0;
  for (const std::string& name : names) {
    if (!name.ends_with(".json")) continue;  // e.g. a .tmp left by an interrupted run
    TS_ASSIGN_OR_RETURN(Resource r, ReadRecord(env, dir, name.substr(0, name.size() - 5)));
    ++records;
    ids.Note(r.id);
    if (std::any_of(r.files.begin(), r.files.end(),
                    [](const ResourceFile& f) { return f.name == "textbook.pdf"; })) {
      maker.NoteTextbook(r);
    }
    if (r.retired) continue;
    Entry e;
    e.id = r.id;
    for (const ResourceFile& f : r.files) {
      e.video |= f.media_type == kVideoType;
      e.doc |= IsDoc(f);
    }
    e.movable = Movable(r);
    live.push_back(std::move(e));
  }

  // The plan: disjoint sets drawn from the live resources in a random order.
  Random plan(Mix(g.seed, "plan" + rev));
  std::vector<size_t> order(live.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  Shuffle(plan, &order);
  std::vector<bool> taken(live.size(), false);
  auto take = [&](uint64_t count, auto eligible) {
    std::vector<std::string> out;
    for (size_t i : order) {
      if (out.size() >= count) break;
      if (taken[i] || !eligible(live[i])) continue;
      taken[i] = true;
      out.push_back(live[i].id);
    }
    return Sorted(std::move(out));
  };
  const uint64_t n = live.size();
  CatalogChanges c;
  c.revision = revision;
  c.inserted = take(Share(n, 5), [](const Entry& e) { return e.video; });
  c.appended = take(Share(n, 5), [](const Entry& e) { return e.doc; });
  c.moved = take(Share(n, 5), [](const Entry& e) { return e.movable; });
  c.edited = take(Share(n, 10), [](const Entry&) { return true; });
  c.retired = take(Share(n, 5), [](const Entry&) { return true; });
  const uint64_t added = Share(n, 20);
  const uint64_t total = c.inserted.size() + c.appended.size() + c.moved.size() + c.edited.size() +
                         c.retired.size() + added;
  uint64_t done = 0;
  auto step = [&] {
    if (progress) progress(++done, total);
  };

  // Carry it out, one resource at a time.
  for (const std::string& id : c.inserted) {
    TS_ASSIGN_OR_RETURN(Resource r, ReadRecord(env, dir, id));
    Random rng(Mix(Mix(g.seed, id), "insert" + rev));
    auto f = std::find_if(r.files.begin(), r.files.end(),
                          [](const ResourceFile& f) { return f.media_type == kVideoType; });
    if (f == r.files.end()) return CorruptionError(RecordPath(dir, id) + ": has no video any more");
    // A few KB, at most a quarter of the file (sample files may be tiny).
    uint64_t extra = std::min(Between(rng, 1024, 8192), std::max<uint64_t>(16, f->size / 4));
    uint64_t offset = f->size / 4 + rng.Uniform(f->size / 2 + 1);
    TS_RETURN_IF_ERROR(Splice(env, JoinPath(MediaDir(dir, id), f->name), &*f, offset,
                              SampleKind::kMedia, extra, rng.Next()));
    c.bytes_written += f->size;
    TS_RETURN_IF_ERROR(WriteFast(env, RecordPath(dir, id), EncodeResource(r), true));
    step();
  }
  for (const std::string& id : c.appended) {
    TS_ASSIGN_OR_RETURN(Resource r, ReadRecord(env, dir, id));
    Random rng(Mix(Mix(g.seed, id), "append" + rev));
    std::vector<ResourceFile*> docs;
    for (ResourceFile& f : r.files) {
      if (IsDoc(f)) docs.push_back(&f);
    }
    if (docs.empty()) return CorruptionError(RecordPath(dir, id) + ": has no document any more");
    ResourceFile* f = Pick(rng, docs);
    // An added chapter or slides: 2-7% more, at least 64 bytes.
    uint64_t extra =
        std::max<uint64_t>(kMinFileBytes, f->size / 50 + rng.Uniform(f->size / 20 + 1));
    TS_RETURN_IF_ERROR(Splice(env, JoinPath(MediaDir(dir, id), f->name), f, f->size,
                              SampleKind::kText, extra, rng.Next()));
    c.bytes_written += f->size;
    TS_RETURN_IF_ERROR(WriteFast(env, RecordPath(dir, id), EncodeResource(r), true));
    step();
  }
  for (const std::string& id : c.moved) {
    TS_ASSIGN_OR_RETURN(Resource r, ReadRecord(env, dir, id));
    Random rng(Mix(Mix(g.seed, id), "move" + rev));
    Move(rng, &r);
    TS_RETURN_IF_ERROR(catalogs::ValidateResource(r, catalogs::Taxonomy::Builtin(),
                                                  catalogs::RegionTable::Builtin()));
    TS_RETURN_IF_ERROR(WriteFast(env, RecordPath(dir, id), EncodeResource(r), true));
    step();
  }
  for (const std::string& id : c.edited) {
    TS_ASSIGN_OR_RETURN(Resource r, ReadRecord(env, dir, id));
    Edit(revision, &r);
    TS_RETURN_IF_ERROR(WriteFast(env, RecordPath(dir, id), EncodeResource(r), true));
    step();
  }
  for (const std::string& id : c.retired) {
    TS_ASSIGN_OR_RETURN(Resource r, ReadRecord(env, dir, id));
    r.retired = true;
    TS_RETURN_IF_ERROR(WriteFast(env, RecordPath(dir, id), EncodeResource(r), true));
    step();
  }
  Random mix_rng(Mix(g.seed, "mix" + rev));
  for (Kind kind : KindMix(added, mix_rng)) {
    Draft d = maker.Make(kind, ids.Next());
    TS_RETURN_IF_ERROR(WriteDraft(env, dir, g.seed, &d, /*replace=*/true, &c.bytes_written));
    c.added.push_back(d.r.id);
    step();
  }
  std::sort(c.added.begin(), c.added.end());
  c.changed = c.edited;
  c.changed.insert(c.changed.end(), c.inserted.begin(), c.inserted.end());
  c.changed.insert(c.changed.end(), c.appended.begin(), c.appended.end());
  std::sort(c.changed.begin(), c.changed.end());
  c.resources = records + c.added.size();

  TS_RETURN_IF_ERROR(WriteChanges(env, dir, c));
  g.revision = revision;
  TS_RETURN_IF_ERROR(WriteGeneratorJson(env, dir, g));
  return c;
}

}  // namespace tiersync::hub

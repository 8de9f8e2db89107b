"""What a year of plant life looks like: a seeded, pure plan (no database) the writers carry out.

Everything random comes from one ``random.Random(seed)``, so the same seed and size give the same
year. Dates are days before ``today`` (the generator's ``now``): the year is the 365 days up to it.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

# (code, Chinese name, English name, category) — realistic suppliers of an electromechanical plant
SUPPLIERS = [
    ("S001", "苏州精工金属制品有限公司", "Suzhou Precision Metal Products", "mechanical"),
    ("S002", "宁波华盛塑胶模具有限公司", "Ningbo Huasheng Plastic Mould", "raw_material"),
    ("S003", "深圳市立讯电子科技有限公司", "Shenzhen Lixun Electronics", "electronic"),
    ("S004", "东莞市恒通五金弹簧厂", "Dongguan Hengtong Hardware & Spring", "mechanical"),
    ("S005", "昆山欣达包装材料有限公司", "Kunshan Xinda Packaging", "packaging"),
    ("S006", "无锡宏远化工有限公司", "Wuxi Hongyuan Chemical", "chemical"),
    ("S007", "常州天合电机有限公司", "Changzhou Tianhe Motor", "electronic"),
    ("S008", "杭州中策橡胶密封件有限公司", "Hangzhou Zhongce Rubber Seals", "raw_material"),
    ("S009", "佛山市南海压铸有限公司", "Foshan Nanhai Die Casting", "mechanical"),
    ("S010", "厦门宏发电声股份有限公司", "Xiamen Hongfa Electroacoustic", "electronic"),
    ("S011", "天津津达表面处理有限公司", "Tianjin Jinda Surface Treatment", "outsourced_process"),
    ("S012", "青岛海纳线束有限公司", "Qingdao Haina Wire Harness", "electronic"),
    ("S013", "上海联新紧固件有限公司", "Shanghai Lianxin Fasteners", "mechanical"),
    ("S014", "合肥国科PCB电路板有限公司", "Hefei Guoke PCB", "electronic"),
    ("S015", "温州正泰开关配件厂", "Wenzhou Zhengtai Switch Parts", "mechanical"),
    ("S016", "重庆长江注塑件有限公司", "Chongqing Changjiang Injection Parts", "raw_material"),
    ("S017", "武汉光谷检测技术服务有限公司", "Wuhan Optics Valley Testing Services", "service"),
    ("S018", "嘉兴新丰纸箱厂", "Jiaxing Xinfeng Carton Factory", "packaging"),
    ("S019", "成都川能铝型材有限公司", "Chengdu Chuanneng Aluminium Profiles", "raw_material"),
    ("S020", "珠海格润电子元件有限公司", "Zhuhai Gerun Electronic Components", "electronic"),
]
BAD_SUPPLIERS = ("S009", "S012", "S016")          # high defect rates: rejections, NCRs, tightened inspection
CONDITIONAL, DISQUALIFIED = "S011", "S018"
EXPIRING = ("S004", "S013", "S020")                # a certificate expires within 30 days

# part families per supplier category: (name zh, name en, part category, unit price, characteristic, nominal, tol)
FAMILIES = {
    "mechanical": [("支架", "Bracket", "mechanical", 3.2, ("孔径", "Bore diameter"), 8.0, 0.05),
                   ("轴套", "Bushing", "mechanical", 1.8, ("外径", "Outer diameter"), 12.0, 0.02),
                   ("压铸壳体", "Die-cast housing", "mechanical", 26.0, ("平面度", "Flatness"), 0.05, 0.05),
                   ("弹簧", "Spring", "mechanical", 0.35, ("自由长度", "Free length"), 25.0, 0.3)],
    "raw_material": [("PC 粒料", "PC resin", "raw_material", 21.0, ("熔指", "Melt flow index"), 10.0, 2.0),
                     ("O 型圈", "O-ring", "raw_material", 0.12, ("线径", "Cross-section"), 2.0, 0.08),
                     ("注塑外壳", "Moulded cover", "raw_material", 4.5, ("壁厚", "Wall thickness"), 1.5, 0.1)],
    "electronic": [("继电器", "Relay", "electronic", 6.8, ("线圈电阻", "Coil resistance"), 400.0, 20.0),
                   ("PCB 板", "PCB", "electronic", 12.0, ("板厚", "Board thickness"), 1.6, 0.16),
                   ("线束", "Wire harness", "electronic", 9.5, ("长度", "Length"), 300.0, 3.0),
                   ("电机", "Motor", "electronic", 48.0, ("空载电流", "No-load current"), 0.8, 0.1)],
    "packaging": [("纸箱", "Carton", "packaging", 2.1, ("耐破强度", "Burst strength"), 1200.0, 150.0),
                  ("吸塑托盘", "Blister tray", "packaging", 0.9, ("厚度", "Thickness"), 0.5, 0.05)],
    "chemical": [("三防漆", "Conformal coating", "chemical", 85.0, ("粘度", "Viscosity"), 120.0, 15.0),
                 ("导热硅脂", "Thermal grease", "chemical", 60.0, ("导热系数", "Conductivity"), 3.0, 0.3)],
    "outsourced_process": [("镀锌件", "Zinc-plated part", "semi_finished", 1.1, ("镀层厚度", "Plating thickness"),
                            8.0, 2.0)],
    "service": [("校准服务", "Calibration service", "semi_finished", 300.0, ("偏差", "Deviation"), 0.0, 0.01)],
}
PRODUCTS = [("智能断路器", "Smart circuit breaker"), ("交流接触器", "AC contactor"), ("温控器", "Thermostat"),
            ("电动执行器", "Electric actuator"), ("继电器模组", "Relay module"), ("变频器控制板", "VFD control board"),
            ("漏电保护器", "RCD"), ("电能表", "Energy meter"), ("水泵控制器", "Pump controller"),
            ("充电桩模块", "EV charger module")]
CUSTOMERS = [("C001", "国家电网物资有限公司", "State Grid Materials", "华北 North"),
             ("C002", "美的集团暖通设备", "Midea HVAC", "华南 South"),
             ("C003", "Schneider Electric (China)", "Schneider Electric (China)", "华东 East"),
             ("C004", "格力电器股份有限公司", "Gree Electric Appliances", "华南 South"),
             ("C005", "Bosch Thermotechnik", "Bosch Thermotechnik", "Europe"),
             ("C006", "比亚迪汽车工业有限公司", "BYD Auto", "华南 South")]
LINES = [("L01", "SMT 贴片线 1", "SMT line 1", "电子车间 Electronics"),
         ("L02", "注塑线 2", "Moulding line 2", "注塑车间 Moulding"),
         ("L03", "总装线 3", "Assembly line 3", "总装车间 Assembly"),
         ("L04", "总装线 4", "Assembly line 4", "总装车间 Assembly"),
         ("L05", "测试包装线 5", "Test & pack line 5", "总装车间 Assembly")]
DEFECT_CODES = [("dimension", "MA", "尺寸超差 Out of tolerance"), ("appearance", "MI", "外观划伤 Scratches"),
                ("function", "MA", "功能不良 Function failure"), ("material", "MA", "材质不符 Wrong material"),
                ("marking", "MI", "标识错误 Wrong marking"), ("packaging", "MI", "包装破损 Damaged packing"),
                ("rohs", "CR", "RoHS 超标 RoHS failure"), ("quantity", "MI", "数量短缺 Short quantity")]
CODE_WEIGHTS = [30, 34, 10, 5, 8, 8, 1, 4]
LOT_SIZES = [50, 120, 200, 315, 500, 800, 1000, 1200, 2000, 3000, 5000, 8000, 10000]


@dataclass(frozen=True)
class Size:
    """How much of each thing a year holds: IQC lots in total, and the engine-path detail."""

    inspections: int
    engine_lots: int          # good suppliers' lots through the engine (with the review flow)
    bad_lots: int             # lots of each bad supplier (all through the engine)
    ipqc_per_series: int
    complaints: int


# engine-path lots: ~120 at the default size (every state of the review, NCR and 8D flows is
# reached with that many; the rest of the year's lots take the bulk path)
SIZES = {"small": Size(600, 24, 12, 14, 5),
         "default": Size(20_000, 48, 24, 40, 16),
         "large": Size(1_000_000, 48, 24, 40, 16)}


def size_of(name: str | int) -> Size:
    """The size called ``name`` (small/default/large), or ``default`` detail with that many inspections."""
    if isinstance(name, str) and name in SIZES:
        return SIZES[name]
    count = int(name)
    if count < 1:
        raise ValueError("the number of inspections must be positive")
    base = SIZES["small"] if count < 5000 else SIZES["default"]
    return Size(count, base.engine_lots, base.bad_lots, base.ipqc_per_series, base.complaints)


@dataclass
class Lot:
    """One incoming lot: who, what, when, how big, and what the inspector finds in the sample."""

    day: date
    supplier: int             # index into SUPPLIERS
    part: int                 # index into the plan's parts
    lot_size: int
    defects: list[dict]
    readings: list[float]
    engine: bool              # True: created through the record service and reviewed in the flow
    late_days: int = 0


@dataclass
class Plan:
    """The year: master data and every dated event, in day order."""

    today: date
    size: Size
    parts: list[dict] = field(default_factory=list)
    lots: list[Lot] = field(default_factory=list)

    @property
    def first_day(self) -> date:
        return self.today - timedelta(days=364)

    def day(self, offset: int) -> date:
        """The ``offset``-th day of the year (0 = a year ago)."""
        return self.first_day + timedelta(days=max(0, min(364, offset)))


def make_plan(today: date, size: Size, seed: int = 7) -> Plan:
    """The whole year for ``size`` ending ``today``, from ``seed``."""
    rng = random.Random(seed)
    plan = Plan(today, size)
    plan.parts = _parts(rng)
    plan.lots = _lots(rng, plan)
    return plan


def _parts(rng: random.Random) -> list[dict]:
    """200 parts: ~20 finished products, the rest bought from the 20 suppliers by their category."""
    parts = [{"part_no": f"FG-{100 + i}", "name": f"{zh} {en}", "category": "finished_good", "unit": "PCS",
              "is_product": True, "supplier": None, "unit_price": round(rng.uniform(80, 900), 2),
              "char": ("耐压测试", "Hi-pot leakage"), "nominal": 2.0, "tol": 1.0}
             for i, (zh, en) in enumerate(PRODUCTS + [(z + " Pro", e + " Pro") for z, e in PRODUCTS])]
    per_supplier = (200 - len(parts)) // len(SUPPLIERS)
    for s, (code, _zh, _en, category) in enumerate(SUPPLIERS):
        families = FAMILIES[category]
        for k in range(per_supplier):
            zh, en, part_cat, price, char, nominal, tol = families[k % len(families)]
            parts.append({"part_no": f"{part_cat[:2].upper()}-{code[1:]}{k:02d}", "name": f"{zh} {en} {k + 1}",
                          "category": part_cat, "unit": "PCS", "is_product": False, "supplier": s,
                          "unit_price": round(price * rng.uniform(0.8, 1.2), 2), "char": char,
                          "nominal": nominal, "tol": tol,
                          "level": rng.choice(["II", "II", "II", "I", "S-4"]),
                          "aql_major": rng.choice(["0.65", "1.0", "1.0", "1.5"]), "aql_minor": rng.choice(["2.5", "4.0"])})
    return parts


def _lots(rng: random.Random, plan: Plan) -> list[Lot]:
    """Every incoming lot of the year, in day order; engine-path lots spread evenly through it."""
    size, lots = plan.size, []
    bought = [i for i, p in enumerate(plan.parts) if p["supplier"] is not None]
    active = [s for s, row in enumerate(SUPPLIERS) if row[0] != DISQUALIFIED]
    bad = {_index(code) for code in BAD_SUPPLIERS}
    good = [s for s in active if s not in bad]
    for s in sorted(bad):
        for k in range(size.bad_lots):
            lots.append(_lot(rng, plan, s, bought, int(365 * (k + rng.random()) / size.bad_lots), True))
    plain = max(0, size.inspections - len(lots))
    every = max(1, plain // max(1, size.engine_lots))
    for k in range(plain):
        s = good[rng.randrange(len(good))]
        lots.append(_lot(rng, plan, s, bought, rng.randrange(365), k % every == 0))
    lots.sort(key=lambda lot: (lot.day, not lot.engine))
    return lots


def _index(code: str) -> int:
    return next(i for i, row in enumerate(SUPPLIERS) if row[0] == code)


def _lot(rng: random.Random, plan: Plan, supplier: int, bought: list[int], offset: int, engine: bool) -> Lot:
    own = [p for p in bought if plan.parts[p]["supplier"] == supplier]
    part = own[rng.randrange(len(own))]
    is_bad = SUPPLIERS[supplier][0] in BAD_SUPPLIERS
    defects = _defects(rng, 0.45 if is_bad else 0.03, 3 if is_bad else 1)
    spec = plan.parts[part]
    spread = spec["tol"] / (2.2 if is_bad else 4.5)
    readings = [round(rng.gauss(spec["nominal"], spread), 4) for _ in range(5)]
    if any(abs(v - spec["nominal"]) > spec["tol"] for v in readings) and not any(
            d["code"] == "dimension" for d in defects):      # an NG characteristic is a recorded defect
        defects.append({"code": "dimension", "defect_class": "MA", "description": DEFECT_CODES[0][2],
                        "qty": sum(abs(v - spec["nominal"]) > spec["tol"] for v in readings), "char_no": "1"})
    late = rng.choice([0, 0, 2, 3, 5, 8]) if is_bad else (rng.choice([1, 2]) if rng.random() < 0.06 else 0)
    lot_size = rng.choice(LOT_SIZES[4:] if is_bad else LOT_SIZES)
    cap = 1 if lot_size < 120 else (2 if lot_size < 500 else 6)     # never more than the sample holds
    for d in defects:
        d["qty"] = min(d["qty"], cap)
    return Lot(plan.day(offset), supplier, part, lot_size, defects, readings, engine, late)


def _defects(rng: random.Random, chance: float, heavy: int) -> list[dict]:
    """0–3 defect lines found in the sample (most lots: none)."""
    if rng.random() >= chance:
        return []
    lines = []
    for _ in range(rng.randint(1, 3)):
        code, cls, text = rng.choices(DEFECT_CODES, CODE_WEIGHTS)[0]
        lines.append({"code": code, "defect_class": cls, "description": text, "qty": rng.randint(1, 2 * heavy)})
    return lines

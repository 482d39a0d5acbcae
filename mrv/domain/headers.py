"""Chinese column headers of the line files: the zh-Hans template writes them, the reader takes them back.

Decision: a line file's header row may name a column by its field (``quantity_unit``, the template's
English header) or by its Chinese header (``数量单位``); both read the same, in any file and whatever
the request's language, so that a file saved from the Chinese template imports anywhere. The zh-Hans
template (``Accept-Language: zh-Hans`` or ``?lang=zh-hans``) writes the Chinese headers. Cells are
never translated: codes (``fuel_combustion``, ``natural_gas``) and units stay as they are (Chinese
unit spellings such as 万Nm3 are read by the engine: :mod:`accounting.units`).

A header is composed from its parts: ``steam.mass_unit`` is 蒸汽 + 质量 + 单位 (蒸汽质量单位).
"""

from __future__ import annotations

from functools import cache

#: The Chinese name of each field (and of each part of a nested field).
LABELS: dict[str, str] = {
    "ref": "编号",
    "source": "来源",
    "month": "月份",
    "unit": "生产单元",
    "fuel": "燃料品种",
    "quantity": "数量",
    "ncv": "低位发热量",
    "carbon_content": "单位热值含碳量",
    "oxidation_factor": "碳氧化率",
    "emission_factor": "排放因子",
    "biomass_fraction": "生物质比例",
    "direction": "方向",
    "grid": "电网",
    "steam": "蒸汽",
    "hot_water": "热水",
    "mass": "质量",
    "enthalpy": "焓值",
    "temperature": "温度",
    "clinker": "熟料产量",
    "clinker_type": "熟料类型",
    "cao_fraction": "氧化钙含量",
    "cao_non_carbonate_fraction": "非碳酸盐氧化钙含量",
    "mgo_fraction": "氧化镁含量",
    "mgo_non_carbonate_fraction": "非碳酸盐氧化镁含量",
    "kiln_dust": "窑灰量",
    "bypass_dust": "旁路放风粉尘量",
    "kiln_dust_calcination_fraction": "窑灰煅烧比例",
    "kiln_dust_carbonate_fraction": "窑灰碳酸盐比例",
    "substitutes": "替代原料",
    "raw_meal": "生料量",
    "organic_carbon_fraction": "生料有机碳含量",
    "product": "产品",
    "material": "物料",
    "inputs": "输入",
    "outputs": "输出",
    "aluminium_production": "原铝产量",
    "net_anode_consumption": "吨铝阳极净耗",
    "sulphur_fraction": "硫分",
    "ash_fraction": "灰分",
    "anode_effect_minutes": "阳极效应分钟数",
    "slope_cf4": "CF4斜率系数",
    "c2f6_ratio": "C2F6与CF4比值",
    "cf4_emission_factor": "CF4排放因子",
    "c2f6_emission_factor": "C2F6排放因子",
    "cell_technology": "电解槽技术",
    "current_efficiency": "电流效率",
    "method": "方法",
    "overvoltage_coefficient": "过电压系数",
    "overvoltage_mv": "过电压",
    "green_anodes": "生阳极量",
    "baked_anodes": "焙烧阳极量",
    "hydrogen_content": "氢含量",
    "waste_tar": "废焦油量",
    "packing_coke_rate": "填充焦消耗率",
    "packing_coke_ash_fraction": "填充焦灰分",
    "packing_coke_sulphur_fraction": "填充焦硫分",
}
UNIT = "单位"
UNIT_SUFFIX = "_unit"


def chinese(column: str) -> str:
    """The Chinese header of ``column`` (a column without a Chinese name keeps its English one)."""
    base, unit = (column[: -len(UNIT_SUFFIX)], UNIT) if column.endswith(UNIT_SUFFIX) else (column, "")
    parts = base.split(".")
    if not all(part in LABELS for part in parts):
        return column
    return "".join(LABELS[part] for part in parts) + unit


@cache
def _columns_by_header() -> dict[str, str]:
    from mrv.domain.linefiles import SECTOR_KINDS, columns

    names = {name for sector in SECTOR_KINDS for name in columns(sector)}
    return {chinese(name): name for name in sorted(names) if chinese(name) != name}


def english(header: str) -> str:
    """The column a header names: a Chinese header read back, any other text as it is."""
    return _columns_by_header().get(header, header)

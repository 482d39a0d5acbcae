"""Provincial-level divisions of mainland China covered by the national ETS (ISO 3166-2:CN codes)."""

from __future__ import annotations

PROVINCES: dict[str, str] = {
    "CN-AH": "Anhui",
    "CN-BJ": "Beijing",
    "CN-CQ": "Chongqing",
    "CN-FJ": "Fujian",
    "CN-GD": "Guangdong",
    "CN-GS": "Gansu",
    "CN-GX": "Guangxi",
    "CN-GZ": "Guizhou",
    "CN-HA": "Henan",
    "CN-HB": "Hubei",
    "CN-HE": "Hebei",
    "CN-HI": "Hainan",
    "CN-HL": "Heilongjiang",
    "CN-HN": "Hunan",
    "CN-JL": "Jilin",
    "CN-JS": "Jiangsu",
    "CN-JX": "Jiangxi",
    "CN-LN": "Liaoning",
    "CN-NM": "Nei Mongol",
    "CN-NX": "Ningxia",
    "CN-QH": "Qinghai",
    "CN-SC": "Sichuan",
    "CN-SD": "Shandong",
    "CN-SH": "Shanghai",
    "CN-SN": "Shaanxi",
    "CN-SX": "Shanxi",
    "CN-TJ": "Tianjin",
    "CN-XJ": "Xinjiang",
    "CN-XZ": "Xizang",
    "CN-YN": "Yunnan",
    "CN-ZJ": "Zhejiang",
}
CHOICES = sorted(PROVINCES.items())

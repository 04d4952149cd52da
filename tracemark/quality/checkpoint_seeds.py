"""The five standard checkpoint templates a brand can start from, in every locale.

Plain data in the form :func:`tracemark.quality.checkpoints.create_template` takes; a brand edits
its copies like any template of its own.
"""

from __future__ import annotations

from typing import Any

_ORDER = ("en", "zh_Hans", "es", "fr", "de", "ja", "pt", "ar")


def _t(*texts: str) -> dict[str, str]:
    """Texts in the order en, zh_Hans, es, fr, de, ja, pt, ar."""
    return dict(zip(_ORDER, texts, strict=True))


_PASSFAIL = "passfail"
_NOTES = {
    "name": "notes",
    "type": "text",
    "max_length": 500,
    "required": False,
    "label": _t(
        "Notes", "备注", "Notas", "Remarques", "Bemerkungen", "メモ", "Observações", "ملاحظات"
    ),
}


def _temperature(required: bool) -> dict[str, Any]:
    return {
        "name": "temperature",
        "type": "number",
        "unit": "°C",
        "min": -40,
        "max": 80,
        "decimals": 1,
        "required": required,
        "label": _t("Temperature", "温度", "Temperatura", "Température", "Temperatur", "温度",
                    "Temperatura", "درجة الحرارة"),
    }  # fmt: skip


# fmt: off
STANDARD: dict[str, dict[str, Any]] = {
    "raw-material-receipt": {
        "name": _t("Raw-material receipt", "原料接收", "Recepción de materia prima",
                   "Réception de matière première", "Rohstoffeingang", "原材料受入",
                   "Receção de matéria-prima", "استلام المواد الخام"),
        "biz_step": "receiving",
        "disposition": "in_progress",
        "subject": "material_lot",
        "fields": [
            {"name": "quantity", "type": "number", "unit": "kg", "min": 0, "max": 1_000_000,
             "decimals": 1, "required": True,
             "label": _t("Quantity received", "接收数量", "Cantidad recibida", "Quantité reçue",
                         "Eingangsmenge", "受入数量", "Quantidade recebida", "الكمية المستلمة")},
            _temperature(False),
            {"name": "delivery_note", "type": "text", "max_length": 60, "required": False,
             "label": _t("Delivery note number", "送货单号", "Número de albarán",
                         "Numéro du bon de livraison", "Lieferscheinnummer", "納品書番号",
                         "Número da guia de remessa", "رقم إشعار التسليم")},
            {"name": "packaging_intact", "type": _PASSFAIL, "required": True,
             "label": _t("Packaging intact", "包装完好", "Embalaje intacto", "Emballage intact",
                         "Verpackung unversehrt", "包装に損傷なし", "Embalagem intacta",
                         "العبوة سليمة")},
            {"name": "certificate", "type": "file", "required": False,
             "label": _t("Certificate of analysis", "分析证书", "Certificado de análisis",
                         "Certificat d'analyse", "Analysenzertifikat", "分析証明書",
                         "Certificado de análise", "شهادة التحليل")},
        ],
    },
    "production-feeding": {
        "name": _t("Production feeding", "投料生产", "Alimentación de producción",
                   "Alimentation de la production", "Produktionszuführung", "生産投入",
                   "Alimentação da produção", "تغذية الإنتاج"),
        "biz_step": "assembling",
        "disposition": "in_progress",
        "subject": "material_lot",
        "fields": [
            {"name": "line", "type": "text", "max_length": 60, "required": True,
             "label": _t("Production line", "生产线", "Línea de producción",
                         "Ligne de production", "Produktionslinie", "生産ライン",
                         "Linha de produção", "خط الإنتاج")},
            {"name": "quantity", "type": "number", "unit": "kg", "min": 0, "max": 1_000_000,
             "decimals": 1, "required": True,
             "label": _t("Quantity used", "用量", "Cantidad usada", "Quantité utilisée",
                         "Verbrauchte Menge", "使用量", "Quantidade usada", "الكمية المستخدمة")},
            {"name": "lot_produced", "type": "text", "max_length": 20, "required": False,
             "label": _t("Lot produced", "生产批号", "Lote producido", "Lot produit",
                         "Erzeugte Charge", "製造ロット", "Lote produzido", "الدفعة المنتجة")},
        ],
    },
    "qc-inspection": {
        "name": _t("QC inspection", "质量检验", "Inspección de calidad", "Contrôle qualité",
                   "Qualitätsprüfung", "品質検査", "Inspeção de qualidade", "فحص الجودة"),
        "biz_step": "inspecting",
        "disposition": "conformant",
        "subject": "batch",
        "fields": [
            {"name": "sample_size", "type": "number", "min": 1, "max": 10_000, "decimals": 0,
             "required": True,
             "label": _t("Sample size", "样本量", "Tamaño de la muestra", "Taille de l'échantillon",
                         "Stichprobengröße", "サンプル数", "Tamanho da amostra", "حجم العينة")},
            {"name": "acidity", "type": "number", "unit": "%", "min": 0, "max": 100,
             "decimals": 2, "required": False,
             "label": _t("Acidity", "酸度", "Acidez", "Acidité", "Säuregehalt", "酸度", "Acidez",
                         "الحموضة")},
            {"name": "appearance", "type": "choice", "required": True,
             "label": _t("Appearance", "外观", "Aspecto", "Aspect", "Aussehen", "外観",
                         "Aspeto", "المظهر"),
             "choices": [
                 {"value": "good", "label": _t("Good", "良好", "Bueno", "Bon", "Gut", "良好",
                                               "Bom", "جيد")},
                 {"value": "acceptable", "label": _t("Acceptable", "可接受", "Aceptable",
                                                     "Acceptable", "Akzeptabel", "許容",
                                                     "Aceitável", "مقبول")},
                 {"value": "poor", "label": _t("Poor", "差", "Deficiente", "Mauvais",
                                               "Mangelhaft", "不良", "Fraco", "ضعيف")},
             ]},
            {"name": "seal_intact", "type": _PASSFAIL, "required": True,
             "label": _t("Seal intact", "密封完好", "Precinto intacto", "Scellé intact",
                         "Siegel unversehrt", "封印に異常なし", "Selo intacto", "الختم سليم")},
            {"name": "report", "type": "file", "required": False,
             "label": _t("Laboratory report", "实验室报告", "Informe de laboratorio",
                         "Rapport de laboratoire", "Laborbericht", "検査報告書",
                         "Relatório de laboratório", "تقرير المختبر")},
            _NOTES,
        ],
    },
    "packing": {
        "name": _t("Packing", "包装", "Embalaje", "Conditionnement", "Verpackung", "梱包",
                   "Embalagem", "التعبئة"),
        "biz_step": "packing",
        "disposition": "in_progress",
        "subject": "batch",
        "fields": [
            {"name": "cases", "type": "number", "min": 0, "max": 100_000, "decimals": 0,
             "required": True,
             "label": _t("Cases packed", "装箱数", "Cajas embaladas", "Cartons conditionnés",
                         "Verpackte Kartons", "梱包ケース数", "Caixas embaladas",
                         "الصناديق المعبأة")},
            {"name": "labels_checked", "type": _PASSFAIL, "required": True,
             "label": _t("Labels checked", "标签已核对", "Etiquetas comprobadas",
                         "Étiquettes vérifiées", "Etiketten geprüft", "ラベル確認済み",
                         "Rótulos verificados", "تم فحص الملصقات")},
            _NOTES,
        ],
    },
    "shipping": {
        "name": _t("Shipping", "发货", "Expedición", "Expédition", "Versand", "出荷", "Expedição",
                   "الشحن"),
        "biz_step": "shipping",
        "disposition": "in_transit",
        "subject": "batch",
        "fields": [
            {"name": "carrier", "type": "text", "max_length": 100, "required": True,
             "label": _t("Carrier", "承运人", "Transportista", "Transporteur", "Spediteur",
                         "運送業者", "Transportadora", "شركة النقل")},
            {"name": "consignment", "type": "text", "max_length": 60, "required": False,
             "label": _t("Consignment number", "运单号", "Número de envío", "Numéro d'envoi",
                         "Sendungsnummer", "送り状番号", "Número da remessa", "رقم الشحنة")},
            {"name": "destination", "type": "text", "max_length": 200, "required": True,
             "label": _t("Destination", "目的地", "Destino", "Destination", "Bestimmungsort",
                         "届け先", "Destino", "الوجهة")},
            {"name": "departure", "type": "date", "required": False,
             "label": _t("Departure date", "发货日期", "Fecha de salida", "Date de départ",
                         "Abfahrtsdatum", "出発日", "Data de partida", "تاريخ المغادرة")},
            _temperature(False),
        ],
    },
}
# fmt: on

"""The public list as an Excel workbook (openpyxl), imported by its view only.

openpyxl weighs about 18 MiB: the web processes load it at the first download
rather than all carrying it from their start.
"""

import datetime
import tempfile

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from signatures.text import spreadsheet_safe


def signatory_workbook(rows, title: str, columns, widths: dict[str, int]):
    """A spooled file holding the workbook, at its start; the caller closes it.

    openpyxl's write-only mode keeps one row in memory at a time and spools the
    sheet to disk. The publication date is a real date, in Paris time.
    """
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title)
    sheet.freeze_panes = "A2"
    for column, width in widths.items():
        sheet.column_dimensions[column].width = width
    header = []
    for _key, label in columns:
        cell = WriteOnlyCell(sheet, value=str(label))
        cell.font = Font(bold=True)
        header.append(cell)
    sheet.append(header)
    for row in rows:
        row["networks"] = ", ".join(row["networks"])
        if row["published_at"]:
            published = datetime.datetime.fromisoformat(row["published_at"])
            row["published_at"] = _date_cell(sheet, published.replace(tzinfo=None))
        sheet.append([spreadsheet_safe(row[key]) for key, _label in columns])
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - the FileResponse closes it once sent
    workbook.save(spool)
    spool.seek(0)
    return spool


def _date_cell(sheet, moment: datetime.datetime) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=moment)
    cell.number_format = "dd/mm/yyyy hh:mm"
    return cell

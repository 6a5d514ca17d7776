# ruff: noqa: RUF001  (typographic en dashes are intended in the Indonesian labels)
"""Citizen-facing text: Bahasa Indonesia first, English second.

Every string a reporter or agency staff can see (labels, hints, validation messages,
status names, problem titles) lives here in both languages, so an answer is never half
translated. :func:`negotiate` picks the language once per request for every app:
``?lang=en|id`` when given, else Accept-Language, else the app's default (Indonesian
for citizens, who mostly read it and must not have to choose; English for the agency
API).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from werkzeug.wrappers import Request

Lang = Literal["id", "en"]
LANGS: tuple[Lang, ...] = ("id", "en")
DEFAULT_LANG: Lang = "id"

# key -> (Bahasa Indonesia, English). Placeholders use str.format names.
MESSAGES: Mapping[str, tuple[str, str]] = {
    # --- site and navigation
    "site_name": ("Lapor", "Lapor"),
    "site_tagline": (
        "Layanan Aspirasi dan Pengaduan Online Rakyat",
        "Public complaints and aspirations online",
    ),
    "skip_to_content": ("Langsung ke isi", "Skip to content"),
    "nav_new_report": ("Buat laporan", "New report"),
    "nav_track": ("Lacak laporan", "Track a report"),
    "switch_language": ("English", "Bahasa Indonesia"),
    # --- the form
    "form_title": ("Sampaikan laporan Anda", "Submit your report"),
    "form_intro": (
        "Isian bertanda * wajib diisi. Laporan Anda diteruskan ke instansi yang berwenang.",
        "Fields marked * are required. Your report is sent to the agency in charge.",
    ),
    "required_mark": ("wajib", "required"),
    "optional_mark": ("opsional", "optional"),
    "field_type": ("Jenis laporan", "Type of report"),
    "type_pengaduan": ("Pengaduan", "Complaint"),
    "type_pengaduan_hint": (
        "Masalah pada pelayanan publik yang perlu ditangani.",
        "A problem with a public service that needs fixing.",
    ),
    "type_aspirasi": ("Aspirasi", "Aspiration"),
    "type_aspirasi_hint": (
        "Saran atau usulan untuk perbaikan pelayanan.",
        "A suggestion or proposal to improve a service.",
    ),
    "type_permintaan_informasi": ("Permintaan informasi", "Information request"),
    "type_permintaan_informasi_hint": (
        "Meminta informasi dari instansi pemerintah.",
        "Asking a government agency for information.",
    ),
    "type_pengaduan_pengawasan": ("Pengaduan berkadar pengawasan", "Supervisory complaint"),
    "field_title": ("Judul laporan", "Title"),
    "field_title_hint": ("10–150 karakter.", "10–150 characters."),
    "field_description": ("Isi laporan", "Description"),
    "field_description_hint": (
        "Ceritakan apa yang terjadi, di mana dan kapan (30–5000 karakter).",
        "Say what happened, where and when (30–5000 characters).",
    ),
    "field_category": ("Kategori", "Category"),
    "choose": ("— Pilih —", "— Choose —"),
    "choose_none": ("— Tidak ada / biarkan sistem memilih —", "— None / let the system choose —"),
    "category_general": ("{name} (umum)", "{name} (general)"),
    "location": ("Lokasi kejadian", "Where it happened"),
    "field_province": ("Provinsi", "Province"),
    "field_regency": ("Kabupaten/kota", "Regency/city"),
    "field_regency_hint": (
        "Pilih kabupaten/kota di provinsi yang Anda pilih. Kosongkan bila tidak ada di daftar.",
        "Choose a regency or city in the province you chose. Leave empty if it is not listed.",
    ),
    "field_incident_date": ("Tanggal kejadian", "Date of the incident"),
    "field_incident_date_hint": ("Tidak boleh di masa depan.", "Cannot be in the future."),
    "field_target_agency": ("Instansi tujuan", "Agency to receive it"),
    "field_target_agency_hint": (
        "Bila Anda tidak tahu, biarkan kosong: laporan akan diarahkan otomatis.",
        "If you do not know, leave it empty: the report is routed for you.",
    ),
    "privacy": ("Kerahasiaan", "Privacy"),
    "field_anonymous": ("Anonim", "Anonymous"),
    "field_anonymous_hint": (
        "Identitas Anda tidak ditampilkan kepada instansi maupun publik.",
        "Your identity is not shown to the agency or the public.",
    ),
    "field_confidential": ("Rahasia", "Confidential"),
    "field_confidential_hint": (
        "Isi laporan tidak ditampilkan kepada publik; hanya instansi yang menangani "
        "yang membacanya.",
        "The report is not shown to the public; only the agency handling it reads it.",
    ),
    "contact": ("Data pelapor", "Your contact details"),
    "contact_hint": (
        "Wajib bila tidak anonim: nama dan email atau nomor telepon. "
        "Data ini tidak dipublikasikan.",
        "Required unless anonymous: a name and an email or phone number. Never published.",
    ),
    "field_reporter_name": ("Nama", "Name"),
    "field_reporter_email": ("Email", "Email"),
    "field_reporter_phone": ("Nomor telepon", "Phone number"),
    "field_reporter_phone_hint": (
        "Contoh: 0812 3456 7890 atau +62 812…",
        "E.g. 0812 3456 7890 or +62 812…",
    ),
    "honeypot_label": ("Jangan diisi", "Leave this empty"),
    "submit_button": ("Kirim laporan", "Send report"),
    "error_summary_title": (
        "Ada {count} isian yang perlu diperbaiki",
        "{count} fields need fixing",
    ),
    "error_summary_title_one": ("Ada 1 isian yang perlu diperbaiki", "1 field needs fixing"),
    "already_sent": (
        "Formulir ini sudah pernah dikirim dengan isi yang berbeda. Periksa isian lalu tekan "
        "“Kirim laporan” lagi untuk mengirim laporan baru.",
        "This form was already sent with different content. Check the fields and press "
        "“Send report” again to send a new report.",
    ),
    "form_problem": ("Formulir tidak dapat diproses.", "The form could not be processed."),
    # --- confirmation and tracking
    "submitted_title": ("Laporan Anda sudah kami terima", "We have received your report"),
    "your_code": ("Kode pelacakan Anda", "Your tracking code"),
    "code_hint": (
        "Catat kode ini. Anda dapat menyebutkannya lewat telepon untuk menanyakan laporan.",
        "Write this code down. You can quote it over the phone to ask about the report.",
    ),
    "private_link": (
        "Tautan pribadi untuk mengikuti laporan",
        "Private link to follow your report",
    ),
    "private_link_hint": (
        "Simpan tautan ini dan jangan dibagikan: siapa pun yang memilikinya dapat melihat data "
        "pribadi laporan Anda dan menanggapinya atas nama Anda.",
        "Keep this link and do not share it: anyone who has it can see your report's private "
        "details and answer on your behalf.",
    ),
    "track_title": ("Laporan {code}", "Report {code}"),
    "lookup_title": ("Lacak laporan", "Track a report"),
    "lookup_intro": (
        "Masukkan kode pelacakan, misalnya K7M-2XQ-9RJ.",
        "Enter the tracking code, for example K7M-2XQ-9RJ.",
    ),
    "field_code": ("Kode pelacakan", "Tracking code"),
    "lookup_button": ("Lacak", "Track"),
    # --- "Lost your link?" (on the lookup page)
    "lost_link_title": ("Lupa tautan pribadi?", "Lost your private link?"),
    "lost_link_intro": (
        "Masukkan kode pelacakan dan alamat email atau nomor telepon yang Anda berikan saat "
        "melapor. Bila cocok, kami mengirim ulang tautan pribadi ke kontak tersebut.",
        "Enter the tracking code and the e-mail address or phone number you gave when you "
        "reported. If they match, we send the private link to that contact again.",
    ),
    "field_contact": ("Email atau nomor telepon", "E-mail or phone number"),
    "field_contact_hint": (
        "Sama seperti saat melapor, misalnya siti@contoh.id atau 0812 3456 7890.",
        "As given when you reported, e.g. siti@contoh.id or 0812 3456 7890.",
    ),
    "lost_link_button": ("Kirim ulang tautan", "Send the link again"),
    "lost_link_sent": ("Permintaan diterima", "Request received"),
    "lost_link_sent_detail": (
        "Jika kode pelacakan dan kontak cocok dengan laporan, kami telah mengirim ulang "
        "tautan pribadi ke kontak tersebut. Periksa email atau SMS Anda dalam beberapa menit.",
        "If the tracking code and the contact match a report, we have sent the private link "
        "to that contact again. Check your e-mail or text messages in a few minutes.",
    ),
    "lost_link_too_many": ("Terlalu banyak permintaan", "Too many requests"),
    "lost_link_too_many_detail": (
        "Terlalu banyak permintaan dari jaringan Anda dalam waktu singkat. Silakan coba lagi "
        "dalam {minutes} menit.",
        "Too many requests from your network in a short time. Please try again in "
        "{minutes} minutes.",
    ),
    "lost_link_spam_detail": (
        "Permintaan tidak dapat diterima. Bila Anda manusia, kosongkan kolom tersembunyi "
        "lalu kirim lagi.",
        "The request could not be accepted. If you are human, clear the hidden field "
        "and send again.",
    ),
    "err_invalid_contact": (
        "Masukkan alamat email atau nomor telepon Indonesia, contoh siti@contoh.id atau "
        "0812 3456 7890.",
        "Enter an e-mail address or an Indonesian phone number, e.g. siti@contoh.id or "
        "0812 3456 7890.",
    ),
    "status": ("Status", "Status"),
    "type": ("Jenis", "Type"),
    "category": ("Kategori", "Category"),
    "region": ("Lokasi", "Location"),
    "incident_date": ("Tanggal kejadian", "Date of the incident"),
    "submitted_at": ("Dikirim", "Submitted"),
    "verify_due": ("Batas verifikasi", "Verification due"),
    "resolve_due": ("Batas penyelesaian", "Resolution due"),
    "agency": ("Instansi", "Agency"),
    "target_agency": ("Instansi tujuan", "Requested agency"),
    "not_yet": ("Belum ditentukan", "Not yet decided"),
    "description": ("Isi laporan", "Description"),
    "reporter": ("Pelapor", "Reporter"),
    "reporter_masked": (
        "Ditampilkan tersamar untuk melindungi data Anda; data lengkapnya disimpan tersandi.",
        "Shown masked to protect your data; the full details are stored encrypted.",
    ),
    "anonymous_yes": ("Anonim", "Anonymous"),
    "confidential_yes": ("Rahasia", "Confidential"),
    "timeline": ("Riwayat", "Timeline"),
    "timeline_empty": ("Belum ada riwayat.", "No history yet."),
    # The reporter's own timeline: how they were told (never the address or number).
    "notified_by": ("Anda diberi tahu lewat {channels}", "You were notified by {channels}"),
    "notified_link_by": (
        "Tautan pribadi dikirim ulang lewat {channels}",
        "Your private link was sent again by {channels}",
    ),
    "channel_email": ("e-mail", "e-mail"),
    "channel_sms": ("SMS", "text message (SMS)"),
    "channels_and": (" dan ", " and "),
    "private_view": (
        "Anda melihat laporan ini sebagai pelapor, termasuk data pribadi.",
        "You are seeing this report as its reporter, including private details.",
    ),
    "public_view": (
        "Ini tampilan publik. Data pribadi hanya terlihat lewat tautan pribadi pelapor.",
        "This is the public view. Private details show only through the reporter's private link.",
    ),
    "token_rejected": (
        "Token pada tautan tidak cocok dengan laporan ini; "
        "hanya informasi publik yang ditampilkan.",
        "The token in the link does not match this report; only public information is shown.",
    ),
    # --- errors (pages)
    "invalid_code": (
        "Kode pelacakan tidak valid — periksa kembali",
        "Invalid tracking code — please check it again",
    ),
    "invalid_code_detail": (
        "Kode terdiri dari 9 huruf/angka seperti K7M-2XQ-9RJ. Satu karakter yang salah atau "
        "tertukar langsung terdeteksi.",
        "A code has 9 letters or digits like K7M-2XQ-9RJ. A single wrong or swapped "
        "character is detected straight away.",
    ),
    "not_found": ("Laporan tidak ditemukan", "Report not found"),
    "not_found_detail": (
        "Tidak ada laporan publik dengan kode ini. Laporan rahasia hanya dapat dibuka dengan "
        "tautan pribadi pelapor.",
        "There is no public report with this code. A confidential report opens only through "
        "its reporter's private link.",
    ),
    "page_not_found": ("Halaman tidak ditemukan", "Page not found"),
    "method_not_allowed": ("Metode tidak diizinkan", "Method not allowed"),
    "too_many": ("Terlalu banyak laporan", "Too many reports"),
    "too_many_detail": (
        "Terlalu banyak laporan dari jaringan Anda dalam waktu singkat. Silakan coba lagi "
        "dalam {minutes} menit.",
        "Too many reports from your network in a short time. Please try again in "
        "{minutes} minutes.",
    ),
    "too_large": ("Isian terlalu besar", "Submission too large"),
    "too_large_detail": (
        "Isian melebihi {limit} KB. Persingkat isi laporan lalu kirim lagi.",
        "The submission exceeds {limit} KB. Shorten the report and send it again.",
    ),
    "unsupported_type": ("Jenis isian tidak didukung", "Unsupported content type"),
    "unsupported_type_detail": (
        "Kirim formulir sebagai application/x-www-form-urlencoded.",
        "Send the form as application/x-www-form-urlencoded.",
    ),
    "bad_request": ("Permintaan tidak valid", "Bad request"),
    "spam_detail": (
        "Laporan tidak dapat diterima. Bila Anda manusia, kosongkan kolom tersembunyi "
        "lalu kirim lagi.",
        "The report could not be accepted. If you are human, clear the hidden field "
        "and send again.",
    ),
    "server_error": ("Terjadi gangguan", "Something went wrong"),
    "server_error_detail": (
        "Laporan belum tersimpan. Silakan coba lagi sebentar lagi.",
        "Your report was not saved. Please try again shortly.",
    ),
    "busy": ("Sedang sibuk", "Busy right now"),
    "busy_detail": (
        "Layanan sedang sibuk atau penyimpanan data sedang tidak dapat dijangkau; "
        "tidak ada yang disimpan. Silakan coba lagi sebentar lagi.",
        "The service is busy or its data store cannot be reached right now; nothing was "
        "saved. Please try again in a moment.",
    ),
    "back_to_form": ("Kembali ke formulir", "Back to the form"),
    # --- API problems
    "malformed_json": (
        "Badan permintaan bukan JSON yang valid",
        "The request body is not valid JSON",
    ),
    "json_not_object": (
        "Badan permintaan harus berupa objek JSON",
        "The request body must be a JSON object",
    ),
    "unsupported_json": (
        "Kirim badan permintaan sebagai application/json.",
        "Send the request body as application/json.",
    ),
    # --- files through the APIs (shared/web/api_files.py)
    "unsupported_json_multipart": (
        "Kirim badan permintaan sebagai application/json atau multipart/form-data.",
        "Send the request body as application/json or multipart/form-data.",
    ),
    "malformed_multipart": (
        "Badan multipart/form-data tidak dapat dibaca",
        "The multipart/form-data body cannot be read",
    ),
    "malformed_multipart_detail": (
        "Kirim laporan (JSON) di bagian {part} dan setiap berkas di bagian berkas.",
        "Send the report (JSON) in the part {part} and each file in a part berkas.",
    ),
    "api_files_too_large_detail": (
        "Kiriman melebihi {limit} KB: paling banyak {count} berkas, masing-masing paling "
        "besar {file_limit} dan semuanya paling besar {total_limit}.",
        "The request exceeds {limit} KB: at most {count} files, each at most {file_limit} "
        "and all together at most {total_limit}.",
    ),
    "files_refused": ("Berkas ditolak", "Files refused"),
    "files_refused_detail": (
        "Tidak ada yang disimpan. Perbaiki setiap berkas dalam daftar errors lalu kirim lagi.",
        "Nothing was stored. Fix each file in the errors list and send again.",
    ),
    "err_unknown_upload": (
        "Unggahan tidak dikenal, sudah kedaluwarsa, atau belum dikirim (PUT).",
        "Unknown or expired upload, or nothing was PUT to it.",
    ),
    "err_duplicate_upload": (
        "Unggahan yang sama disebut lebih dari sekali.",
        "The same upload is named more than once.",
    ),
    "validation_failed": ("Isian tidak valid", "Validation failed"),
    "validation_failed_detail": (
        "{count} isian tidak valid; lihat daftar errors.",
        "{count} fields are invalid; see the errors list.",
    ),
    "idempotency_reused": ("Idempotency-Key sudah dipakai", "Idempotency-Key already used"),
    "idempotency_reused_detail": (
        "Idempotency-Key ini sudah dipakai untuk laporan dengan isi berbeda.",
        "This Idempotency-Key was already used for a report with different content.",
    ),
    "idempotency_invalid": (
        "Idempotency-Key harus 8–255 karakter ASCII yang terlihat.",
        "Idempotency-Key must be 8–255 visible ASCII characters.",
    ),
    "resource_not_found": ("Tidak ditemukan", "Not found"),
    # --- the agency API's problems
    "auth_required": ("Autentikasi diperlukan", "Authentication required"),
    "auth_required_detail": (
        "Kirim kunci API yang valid: Authorization: Bearer lpr_…",
        "Send a valid API key: Authorization: Bearer lpr_…",
    ),
    "invalid_parameter": ("Parameter tidak valid", "Invalid parameter"),
    "invalid_status_detail": (
        "status harus salah satu dari {states}",
        "status must be one of {states}",
    ),
    "invalid_limit_detail": (
        "limit harus bilangan bulat dari 1 sampai {max}",
        "limit must be a whole number from 1 to {max}",
    ),
    "invalid_queue_detail": (
        "Satu-satunya antrean adalah queue=admin",
        "The only queue is queue=admin",
    ),
    "invalid_delivery_status_detail": (
        "Yang dapat didaftar hanya status=failed",
        "The one status listed is status=failed",
    ),
    "invalid_cursor": ("Kursor tidak valid", "Invalid cursor"),
    "invalid_format_detail": (
        "format harus json atau html",
        "format must be json or html",
    ),
    "illegal_transition": ("Transisi tidak diizinkan", "Illegal transition"),
    "report_changed": ("Laporan sudah berubah", "The report has changed"),
    "invalid_if_match_detail": (
        'If-Match harus seq laporan dalam tanda kutip, misalnya If-Match: "3"',
        'If-Match must be the report\'s seq in quotes, for example If-Match: "3"',
    ),
    "not_permitted": ("Tidak diizinkan", "Not permitted"),
    "invalid_command": ("Perintah tidak valid", "Invalid command"),
    "refused": ("Ditolak", "Refused"),
    # --- validation messages, by code
    "error_prefix": ("Kesalahan:", "Error:"),
    "err_missing": ("Wajib diisi.", "This field is required."),
    "err_too_short": ("Minimal {min} karakter.", "At least {min} characters."),
    "err_too_long": ("Maksimal {max} karakter.", "At most {max} characters."),
    "err_invalid_choice": ("Pilih salah satu pilihan yang tersedia.", "Choose one of the options."),
    "err_invalid_type": ("Pilih jenis laporan.", "Choose the type of report."),
    "err_invalid_date": (
        "Tanggal tidak valid (format TTTT-BB-HH).",
        "Invalid date (format YYYY-MM-DD).",
    ),
    "err_future_date": (
        "Tanggal kejadian tidak boleh di masa depan.",
        "The date cannot be in the future.",
    ),
    "err_date_too_old": (
        "Tanggal terlalu lama (sebelum {min}).",
        "The date is too old (before {min}).",
    ),
    "err_invalid_email": ("Alamat email tidak valid.", "Invalid email address."),
    "err_invalid_phone": (
        "Nomor telepon Indonesia tidak valid, contoh 0812 3456 7890 atau +62 812 3456 7890.",
        "Invalid Indonesian phone number, e.g. 0812 3456 7890 or +62 812 3456 7890.",
    ),
    "err_unknown_category": ("Kategori tidak dikenal.", "Unknown category."),
    "err_unknown_province": ("Provinsi tidak dikenal.", "Unknown province."),
    "err_unknown_regency": ("Kabupaten/kota tidak dikenal.", "Unknown regency or city."),
    "err_regency_not_in_province": (
        "Kabupaten/kota ini tidak berada di provinsi yang dipilih.",
        "This regency or city is not in the chosen province.",
    ),
    "err_regency_required": (
        "Pilih kabupaten/kota di provinsi ini.",
        "Choose a regency or city in this province.",
    ),
    "err_unknown_agency": ("Instansi tidak dikenal.", "Unknown agency."),
    "err_unknown_district": ("Kecamatan tidak dikenal.", "Unknown district."),
    "err_district_not_in_regency": (
        "Kecamatan ini tidak berada di kabupaten/kota yang dipilih.",
        "This district is not in the chosen regency or city.",
    ),
    "err_unknown_village": ("Desa/kelurahan tidak dikenal.", "Unknown village."),
    "err_village_not_in_district": (
        "Desa/kelurahan ini tidak berada di kecamatan yang dipilih.",
        "This village is not in the chosen district.",
    ),
    "err_district_required": (
        "Pilih kecamatan desa/kelurahan ini.",
        "Choose the district of this village.",
    ),
    "err_invalid_coordinate": (
        "Koordinat tidak valid (lintang -90 sampai 90, bujur -180 sampai 180).",
        "Invalid coordinate (latitude -90 to 90, longitude -180 to 180).",
    ),
    "err_point_incomplete": (
        "Isi lintang dan bujur, atau kosongkan keduanya.",
        "Give both latitude and longitude, or neither.",
    ),
    "err_point_outside_indonesia": (
        "Titik lokasi berada di luar Indonesia.",
        "The point lies outside Indonesia.",
    ),
    "err_point_outside_regency": (
        "Titik lokasi berada di luar kabupaten/kota yang dipilih.",
        "The point lies outside the chosen regency or city.",
    ),
    "err_name_required": (
        "Isi nama Anda, atau pilih anonim.",
        "Enter your name, or choose anonymous.",
    ),
    "err_contact_required": (
        "Isi email atau nomor telepon, atau pilih anonim.",
        "Enter an email or a phone number, or choose anonymous.",
    ),
    "err_extra_forbidden": ("Isian ini tidak dikenal.", "Unknown field."),
    "err_invalid_bool": ("Harus benar atau salah (true/false).", "Must be true or false."),
    "err_invalid_text": (
        "Teks mengandung karakter yang tidak diizinkan.",
        "The text has characters that are not allowed.",
    ),
    "err_not_object": ("Harus berupa objek.", "Must be an object."),
    "err_invalid": ("Isian tidak valid.", "Invalid value."),
    "err_invalid_rating": (
        "Pilih nilai 1 sampai 5.",
        "Choose a rating from 1 to 5.",
    ),
    # --- the reporter's actions on the tracking page
    "your_actions": ("Tanggapan Anda", "Your response"),
    "op_reply_title": ("Balas tindak lanjut", "Reply to the follow-up"),
    "op_reply_hint": (
        "Tanggapan Anda dikirim ke instansi yang menangani.",
        "Your reply goes to the agency handling the report.",
    ),
    "op_reply_submit": ("Kirim balasan", "Send reply"),
    "op_answer_title": ("Lengkapi keterangan", "Give the information asked for"),
    "op_answer_hint": (
        "Admin menunggu keterangan tambahan dari Anda. Setelah dijawab, laporan "
        "diverifikasi kembali.",
        "The admin is waiting for more information from you. Once you answer, the "
        "report is verified again.",
    ),
    "op_answer_submit": ("Kirim keterangan", "Send the information"),
    "op_confirm_title": ("Konfirmasi penyelesaian", "Confirm the resolution"),
    "op_confirm_hint": (
        "Jika masalah Anda sudah selesai, konfirmasikan agar laporan ditutup.",
        "If your problem is solved, confirm it so the report is closed.",
    ),
    "op_confirm_submit": ("Ya, sudah selesai", "Yes, it is solved"),
    "op_reopen_title": ("Buka kembali laporan", "Reopen the report"),
    "op_reopen_hint": (
        "Jika masalah belum selesai, jelaskan alasannya; laporan kembali diproses.",
        "If the problem is not solved, say why; the report goes back in progress.",
    ),
    "op_reopen_submit": ("Buka kembali", "Reopen"),
    "op_rating_title": ("Beri penilaian", "Rate the handling"),
    "op_rating_hint": ("1 = sangat buruk, 5 = sangat baik.", "1 = very poor, 5 = very good."),
    "op_rating_submit": ("Kirim penilaian", "Send rating"),
    "field_message": ("Pesan", "Message"),
    "field_reason": ("Alasan", "Reason"),
    "field_rating": ("Nilai", "Rating"),
    # --- the reporter's rights over their data (templates/_my_data.html, hapus_kontak.html)
    "my_data_title": ("Data pribadi Anda", "Your personal data"),
    "my_data_hint": (
        "Anda dapat mengunduh semua data yang kami simpan tentang Anda untuk laporan ini, "
        "atau menghapus nama dan kontak Anda.",
        "You can download everything we hold about you for this report, or erase your "
        "name and contact details.",
    ),
    "my_data_download": ("Unduh data saya (JSON)", "Download my data (JSON)"),
    "erase_contact_link": ("Hapus data kontak saya", "Erase my contact details"),
    "erase_contact_title": ("Hapus data kontak saya", "Erase my contact details"),
    "erase_contact_what": (
        "Nama, alamat email, dan nomor telepon Anda akan dihapus untuk selamanya. Laporan "
        "tetap ada dan tetap ditangani, tetapi sejak itu anonim bagi siapa pun: instansi "
        'hanya melihat "kontak dihapus oleh pelapor".',
        "Your name, e-mail address and phone number will be erased for good. The report "
        "stays and is still handled, but is anonymous to everyone from then on: the agency "
        'sees only "contact erased by the reporter".',
    ),
    "erase_contact_after": (
        "Anda tidak akan menerima pemberitahuan lagi. Pantau laporan ini dengan tautan "
        "pribadi Anda; simpan tautannya, karena tanpa kontak tautan yang hilang tidak dapat "
        "dikirim ulang.",
        "You will receive no more notifications. Follow this report with your private "
        "link; keep it, as without contact details a lost link cannot be sent again.",
    ),
    "erase_contact_submit": ("Ya, hapus data kontak saya", "Yes, erase my contact details"),
    # As an operation (shared.usecases.reporter.OPERATIONS), never offered among the
    # tracking page's actions: its own page asks first (hapus_kontak.html).
    "op_erase-contact_title": ("Hapus data kontak saya", "Erase my contact details"),
    "op_erase-contact_hint": (
        "Nama dan kontak Anda dihapus; laporan tetap ditangani.",
        "Your name and contact details are erased; the report is still handled.",
    ),
    "op_erase-contact_submit": ("Ya, hapus data kontak saya", "Yes, erase my contact details"),
    "erase_contact_cancel": ("Batal, kembali ke laporan", "Cancel, back to the report"),
    "contact_erased_already": (
        "Data kontak Anda untuk laporan ini sudah dihapus.",
        "Your contact details for this report have been erased.",
    ),
    "contact_erased_done": (
        "Data kontak Anda sudah dihapus. Laporan tetap ditangani.",
        "Your contact details have been erased. The report is still being handled.",
    ),
    "action_done": (
        "Terima kasih, tanggapan Anda sudah tercatat.",
        "Thank you, your response has been recorded.",
    ),
    "action_refused": (
        "Tindakan ini tidak dapat dilakukan pada status laporan saat ini.",
        "This cannot be done in the report's current status.",
    ),
    "token_required": (
        "Hanya pelapor, melalui tautan pribadinya, yang dapat menanggapi laporan ini.",
        "Only the reporter, through their private link, can respond to this report.",
    ),
    "action_failed": ("Tanggapan tidak dapat diproses", "Your response could not be processed"),
    # --- files and the finer place, on the form and the tracking page (citizen_pages.py)
    "field_files": ("Foto dan dokumen", "Photos and documents"),
    "field_files_hint": (
        "Paling banyak {count} berkas: foto (JPEG, PNG, WebP, HEIC) atau PDF. Setiap berkas "
        "paling besar {file_limit}, semuanya paling besar {total_limit}. Data lokasi (GPS) "
        "dan data kamera di dalam foto selalu dihapus sebelum disimpan.",
        "At most {count} files: photos (JPEG, PNG, WebP, HEIC) or PDF. Each file at most "
        "{file_limit}, all together at most {total_limit}. Location (GPS) and camera data "
        "inside photos are always removed before they are stored.",
    ),
    "field_files_again": (
        "Berkas yang tadi Anda pilih belum terkirim: pilih lagi sebelum mengirim.",
        "The files you chose were not sent: choose them again before sending.",
    ),
    "field_show_attachments": (
        "Tampilkan foto/dokumen di halaman publik laporan ini",
        "Show the photos/documents on this report's public page",
    ),
    "field_show_attachments_hint": (
        "Bila tidak dicentang, hanya Anda dan instansi yang menanganinya yang dapat melihat "
        "berkas. Laporan rahasia tidak pernah menampilkannya. Foto laporan anonim juga "
        "selalu dibersihkan dari data lokasi.",
        "Unticked, only you and the agency handling it can see the files. A confidential "
        "report never shows them. Photos of anonymous reports, too, are always cleaned of "
        "location data.",
    ),
    "field_district": ("Kecamatan", "District (kecamatan)"),
    "field_district_hint": (
        "Pilih kabupaten/kota dulu.",
        "Choose the regency or city first.",
    ),
    "field_village": ("Desa/kelurahan", "Village (desa/kelurahan)"),
    "places_refresh": ("Tampilkan kecamatan/desa", "Show districts and villages"),
    "places_refresh_hint": (
        "Setelah memilih kabupaten/kota atau kecamatan, tekan tombol ini untuk memuat "
        "pilihannya. Laporan belum dikirim; berkas yang sudah dipilih perlu dipilih lagi.",
        "After choosing a regency or a district, press this button to load its choices. "
        "The report is not sent yet; any files you chose must be chosen again.",
    ),
    "places_refreshed": (
        "Pilihan kecamatan dan desa sudah dimuat. Laporan Anda belum dikirim.",
        "The districts and villages are loaded. Your report has not been sent yet.",
    ),
    "places_none": (
        "Belum ada daftar kecamatan untuk kabupaten/kota ini.",
        "No districts are listed for this regency or city yet.",
    ),
    "field_address": ("Alamat atau patokan", "Address or landmark"),
    "field_address_hint": (
        "Contoh: Jl. Raya Cugenang, depan SDN 1. Hanya Anda dan instansi yang melihatnya "
        "(paling banyak {max} karakter).",
        "E.g. Jl. Raya Cugenang, opposite SDN 1. Only you and the agency see it "
        "(at most {max} characters).",
    ),
    "point_summary": ("Titik lokasi (opsional)", "Map point (optional)"),
    "point_hint": (
        "Garis lintang dan bujur dalam derajat desimal, contoh -6.8123 dan 107.0456. "
        "Halaman publik hanya menampilkan titik yang dibulatkan (sekitar 100 m).",
        "Latitude and longitude in decimal degrees, e.g. -6.8123 and 107.0456. The public "
        "page shows only a rounded point (about 100 m).",
    ),
    "field_latitude": ("Garis lintang (latitude)", "Latitude"),
    "field_longitude": ("Garis bujur (longitude)", "Longitude"),
    "geo_button": ("Gunakan lokasi saya", "Use my location"),
    "geo_busy": ("Mencari lokasi Anda…", "Finding your location…"),
    "geo_done": (
        "Titik diisi dari lokasi perangkat Anda (ketelitian sekitar {m} m). Periksa sebelum "
        "mengirim.",
        "The point is filled from your device's location (accurate to about {m} m). "
        "Check it before sending.",
    ),
    "geo_denied": (
        "Izin lokasi ditolak. Isi titik sendiri atau lewati saja: titik tidak wajib.",
        "Location permission was refused. Type the point yourself or skip it: it is optional.",
    ),
    "geo_unavailable": (
        "Lokasi tidak dapat ditentukan saat ini. Isi titik sendiri atau lewati saja.",
        "Your location cannot be found right now. Type the point yourself or skip it.",
    ),
    "geo_timeout": (
        "Lokasi tidak ditemukan dalam waktu yang wajar. Coba lagi, atau isi titik sendiri.",
        "Your location was not found in time. Try again, or type the point yourself.",
    ),
    "files_too_large": ("Kiriman terlalu besar", "The submission is too large"),
    "files_too_large_detail": (
        "Kiriman melebihi {limit}. Foto dan dokumen boleh paling banyak {count} berkas, "
        "masing-masing paling besar {file_limit} dan semuanya paling besar {total_limit}. "
        "Kembali, pilih berkas yang lebih kecil atau lebih sedikit, lalu kirim lagi.",
        "The submission is over {limit}. Photos and documents may be at most {count} files, "
        "each at most {file_limit} and all together at most {total_limit}. Go back, choose "
        "smaller or fewer files and send again.",
    ),
    "files_error": ("Foto dan dokumen", "Photos and documents"),
    "place_point": ("Titik lokasi", "Map point"),
    "place_point_rounded": ("dibulatkan, sekitar 100 m", "rounded, about 100 m"),
    "place_open_map": ("Buka di peta (OpenStreetMap)", "Open in a map (OpenStreetMap)"),
    "place_address": ("Alamat atau patokan", "Address or landmark"),
    "files_title": ("Foto dan dokumen", "Photos and documents"),
    "files_from_reporter": ("Dari pelapor", "From the reporter"),
    "files_from_agency": ("Dari instansi", "From the agency"),
    "photo_alt_reporter": ("Foto {n} dari pelapor", "Photo {n} from the reporter"),
    "photo_alt_agency": ("Foto {n} dari instansi", "Photo {n} from the agency"),
    "photo_open": (
        "Buka foto {n} ukuran penuh ({width}×{height} piksel, {size})",
        "Open photo {n} full size ({width}×{height} pixels, {size})",
    ),
    "document_open": (
        "Dokumen PDF {n}: {pages} halaman, {size}",
        "PDF document {n}: {pages} pages, {size}",
    ),
    "files_in_event": ("{count} berkas dilampirkan", "{count} files attached"),
    "field_files_reply": ("Lampirkan foto atau dokumen", "Attach photos or documents"),
    # --- the public figures, definitions, open data and list (shared/web/public_pages.py)
    "nav_statistics": ("Statistik", "Statistics"),
    "nav_public_reports": ("Daftar laporan", "Reports list"),
    "pub_title": ("Statistik penanganan laporan", "How reports are handled"),
    "pub_intro": (
        "Angka penanganan laporan oleh instansi pemerintah, dihitung setiap pagi untuk "
        "hari sebelumnya.",
        "How government agencies handle reports, computed every morning for the day before.",
    ),
    "pub_as_of": ("Data sampai {day}, dihitung {generated}.", "Up to {day}, computed {generated}."),
    "pub_up_to": ("Data sampai {day}.", "Up to {day}."),
    "pub_none": ("Belum ada angka yang diterbitkan", "No figures published yet"),
    "pub_none_detail": (
        "Angka pertama terbit setelah perhitungan harian pertama berjalan.",
        "The first figures appear after the first daily run.",
    ),
    "pub_day_missing": ("Tidak ada angka untuk tanggal itu", "No figures for that date"),
    "pub_day_missing_detail": (
        "Pilih tanggal lain, atau lihat angka terbaru.",
        "Choose another date, or see the latest figures.",
    ),
    "pub_month": ("Bulan ini: 1–{day}", "This month: 1–{day}"),
    "pub_since_start": (
        "Sejak awal: {received} laporan, {resolved} selesai, {overdue} terlambat saat ini.",
        "Since the start: {received} reports, {resolved} resolved, {overdue} overdue now.",
    ),
    "pub_trend": ("Tren 90 hari", "90-day trend"),
    "pub_trend_chart": (
        "Laporan diterima dan ditutup per hari",
        "Reports received and closed a day",
    ),
    "pub_trend_alt": (
        "Grafik garis laporan diterima dan ditutup per hari, {first} sampai {last}. "
        "Angkanya ada di tabel di bawah grafik.",
        "Line chart of reports received and closed a day, {first} to {last}. "
        "The numbers are in the table below the chart.",
    ),
    "pub_trend_caption": (
        "Biru: laporan diterima. Hijau: laporan ditutup (dikonfirmasi pelapor atau ditutup "
        "otomatis).",
        "Blue: reports received. Green: reports closed (confirmed by the reporter or closed "
        "by timeout).",
    ),
    "pub_trend_table": ("Angka grafik per hari", "The chart's numbers, day by day"),
    "pub_no_trend": ("Belum ada tren untuk ditampilkan.", "No trend to show yet."),
    "pub_date": ("Tanggal", "Date"),
    "pub_received": ("Diterima", "Received"),
    "pub_closed": ("Ditutup", "Closed"),
    "pub_agencies": ("Per instansi", "By agency"),
    "pub_period": ("Periode", "Period"),
    "pub_period_month": ("Bulan ini", "This month"),
    "pub_period_cumulative": ("Sejak awal", "Since the start"),
    "pub_period_day": ("Hari itu", "That day"),
    "pub_rank_rule": (
        "Urutan: persentase ditindaklanjuti tepat waktu, lalu persentase selesai. Instansi "
        "dengan kurang dari {min} laporan pada periode ini dicantumkan tanpa peringkat, "
        "karena persentase dari angka sekecil itu dapat menyesatkan.",
        "Order: share followed up within deadline, then share resolved. Agencies with fewer "
        "than {min} reports in the period are listed without a rank, because a share of so "
        "few reports can mislead.",
    ),
    "pub_rank": ("Peringkat", "Rank"),
    "pub_agency": ("Instansi", "Agency"),
    "pub_working_days": ("hari kerja", "working days"),
    "pub_ratings": ("{count} penilaian", "{count} ratings"),
    "pub_ranked": ("Diperingkat", "Ranked"),
    "pub_unranked": (
        "Belum diperingkat: kurang dari {min} laporan",
        "Not ranked: fewer than {min} reports",
    ),
    "pub_no_agencies": ("Tidak ada instansi di sini.", "No agency here."),
    "pub_silent": ("Tanpa laporan pada periode ini", "No reports in this period"),
    "pub_scrolls": (
        "Tabel ini dapat digeser ke samping.",
        "This table scrolls sideways.",
    ),
    "pub_more": ("Data dan definisi", "Data and definitions"),
    "pub_definitions_link": ("Arti setiap angka", "What each figure means"),
    "pub_data_json": ("Data terbuka {day} (JSON)", "Open data of {day} (JSON)"),
    "pub_data_csv": ("Data terbuka {day} (CSV)", "Open data of {day} (CSV)"),
    "pub_schema_link": ("Skema data terbuka (JSON)", "Open data schema (JSON)"),
    "pub_anchor_link": (
        "Jangkar linimasa {day}: hash terakhir tiap laporan yang berubah (JSON)",
        "Timeline anchor of {day}: the last hash of each report that changed (JSON)",
    ),
    "pub_list_link": ("Daftar laporan publik", "Public list of reports"),
    "pub_definitions_version": ("Versi definisi: {version}", "Definitions version: {version}"),
    # an agency's page
    "pub_agency_title": ("Statistik {name}", "Statistics: {name}"),
    "pub_part_of": ("Bagian dari", "Part of"),
    "pub_region": ("Wilayah", "Region"),
    "pub_agency_nothing": (
        "Tidak ada angka untuk instansi ini pada {day}.",
        "No figures for this agency on {day}.",
    ),
    "pub_agency_few": (
        "Instansi ini menerima {count} laporan bulan ini, kurang dari {min}: persentase "
        "dari angka sekecil itu dapat menyesatkan.",
        "This agency received {count} reports this month, fewer than {min}: a share of so "
        "few reports can mislead.",
    ),
    "pub_agency_own": ("Angka instansi ini", "This agency's figures"),
    "pub_agency_subtree": (
        "Termasuk instansi di bawahnya",
        "Including the agencies below it",
    ),
    "pub_figure": ("Angka", "Figure"),
    "pub_agency_trend_chart": (
        "Laporan diterima dan ditutup per hari: {name}",
        "Reports received and closed a day: {name}",
    ),
    "pub_agency_data": (
        "Data terbuka instansi ini, {day} (JSON)",
        "This agency's open data of {day} (JSON)",
    ),
    "pub_back": ("Kembali ke statistik", "Back to the statistics"),
    # the definitions page
    "pub_definitions_title": ("Arti setiap angka", "What each figure means"),
    "pub_definitions_intro": (
        "Definisi ini diterbitkan bersama angkanya, agar siapa pun dapat menghitungnya ulang.",
        "These definitions are published with the figures, so anyone can recompute them.",
    ),
    "pub_rules": ("Berlaku untuk semua angka", "True of every figure"),
    "pub_meaning": ("Artinya", "Meaning"),
    "pub_counted": ("Cara menghitung", "How it is counted"),
    "pub_schema": ("Kolom data terbuka", "Open data columns"),
    "pub_schema_intro": (
        "Berkas CSV dan JSON harian memakai kolom berikut. Sel kosong berarti tidak ada "
        "yang dapat dibagi.",
        "The daily CSV and JSON files use these columns. An empty cell means there was "
        "nothing to divide by.",
    ),
    "pub_column": ("Kolom", "Column"),
    "pub_type": ("Jenis", "Type"),
    # the public list
    "pub_list_title": ("Daftar laporan publik", "Public list of reports"),
    "pub_list_intro": (
        "Laporan yang tidak rahasia, terbaru lebih dulu. Laporan rahasia tidak pernah "
        "tampil di sini, tetapi ikut dihitung dalam statistik.",
        "Reports that are not confidential, newest first. Confidential reports never "
        "appear here, but they count in the statistics.",
    ),
    "pub_list_empty": ("Tidak ada laporan untuk ditampilkan.", "No reports to show."),
    "pub_list_next": ("Laporan sebelumnya", "Older reports"),
    "pub_list_newest": ("Ke laporan terbaru", "Back to the newest"),
    "pub_list_updated": ("Terakhir berubah", "Last changed"),
    "pub_bad_link": (
        "Tautan halaman ini tidak valid. Mulai lagi dari laporan terbaru.",
        "This page link is not valid. Start again from the newest reports.",
    ),
    # --- the clocks, on the tracking page and the dossier
    "age": ("Umur laporan", "Age of the report"),
    "working_days": ("{count} hari kerja", "{count} working days"),
    "clock_due": ("Batas waktu tahap ini", "Due date of this stage"),
    "overdue_yes": ("Melewati batas waktu", "Overdue"),
    "escalation_tier": ("Tingkat eskalasi", "Escalation tier"),
    # --- the Ombudsman RI referral dossier
    "dossier_title": ("Berkas rujukan Ombudsman RI", "Ombudsman RI referral dossier"),
    "dossier_intro": (
        "Rekam jejak penanganan laporan {code}, disusun dari catatan sistem.",
        "How report {code} was handled, compiled from the system's record.",
    ),
    "dossier_generated": ("Disusun", "Compiled"),
    "dossier_version": ("versi berkas", "dossier version"),
    "dossier_report": ("Laporan", "The report"),
    "dossier_holdings": ("Instansi yang memegang laporan", "Agencies that held the report"),
    "dossier_routed": ("Cara disposisi", "How it was routed"),
    "dossier_since": ("Sejak", "From"),
    "dossier_until": ("Sampai", "Until"),
    "dossier_still_held": ("Masih dipegang", "Still held"),
    "dossier_working_days": ("Hari kerja", "Working days"),
    "dossier_calendar_days": ("Hari kalender", "Calendar days"),
    "dossier_first_follow_up": ("Tindak lanjut pertama", "First follow-up"),
    "dossier_late": ("terlambat", "late"),
    "dossier_none": ("tidak ada", "none"),
    "dossier_never_held": (
        "Laporan ini belum pernah didisposisikan ke instansi mana pun.",
        "This report was never dispositioned to any agency.",
    ),
    "dossier_escalations": ("Pengingat dan eskalasi", "Reminders and escalations"),
    "dossier_when": ("Waktu", "When"),
    "dossier_notified": ("Diberitahukan kepada", "Told"),
    "dossier_no_escalations": (
        "Tidak ada pengingat atau eskalasi yang dikirim.",
        "No reminder or escalation was sent.",
    ),
    "dossier_deliveries": ("Log pengiriman notifikasi", "Notification delivery log"),
    "dossier_notification": ("Notifikasi", "Notification"),
    "dossier_attempts": ("Percobaan", "Attempts"),
    "dossier_first_attempt": ("Percobaan pertama", "First attempt"),
    "dossier_delivered_at": ("Terkirim", "Delivered"),
    "dossier_no_deliveries": (
        "Belum ada notifikasi yang tercatat untuk laporan ini.",
        "No notification is recorded for this report.",
    ),
    "dossier_figures": (
        "Angka terbitan instansi yang terlibat",
        "Published figures of the agencies involved",
    ),
    "dossier_figures_day": ("Angka terbitan terakhir: {day}.", "Latest published figures: {day}."),
    "dossier_figures_absent": (
        "Belum ada angka yang diterbitkan.",
        "No figures have been published yet.",
    ),
    "dossier_figures_absent_agency": (
        "Tidak ada angka terbitan untuk instansi ini pada hari tersebut.",
        "No figures were published for this agency that day.",
    ),
    "dossier_figure": ("Angka", "Figure"),
    "dossier_period_month": ("Bulan berjalan", "Month to date"),
    "dossier_period_cumulative": ("Kumulatif", "Cumulative"),
    "dossier_fig_received": ("Laporan diterima", "Reports received"),
    "dossier_fig_within_deadline": (
        "Ditindaklanjuti tepat waktu",
        "Followed up within deadline",
    ),
    "dossier_fig_resolved_share": ("Persentase selesai", "Share resolved"),
    "dossier_fig_first_response": (
        "Median hari kerja sampai tanggapan pertama",
        "Median working days to first response",
    ),
    "dossier_fig_resolution": (
        "Median hari kerja sampai selesai",
        "Median working days to resolution",
    ),
    "dossier_fig_misrouting": ("Tingkat salah disposisi", "Misrouting rate"),
    "dossier_fig_satisfaction": ("Rata-rata kepuasan pelapor", "Mean reporter satisfaction"),
    "dossier_fig_overdue_now": (
        "Laporan melewati batas waktu (saat itu)",
        "Reports overdue (at the time)",
    ),
    # --- stopping e-mail and SMS (shared/web/unsubscribe_pages.py)
    "unsubscribe_title": ("Berhenti menerima pemberitahuan", "Stop notifications"),
    "unsubscribe_channel_email": ("e-mail", "e-mail"),
    "unsubscribe_channel_sms": ("SMS", "text message"),
    "unsubscribe_reporter": (
        "Pemberitahuan lewat {channel} tentang laporan {code} akan dihentikan.",
        "Notifications by {channel} about report {code} will stop.",
    ),
    "unsubscribe_agency": (
        "Alamat e-mail ini tidak akan lagi menerima pemberitahuan untuk {agency}.",
        "This e-mail address will no longer get notifications for {agency}.",
    ),
    "unsubscribe_button": ("Ya, hentikan", "Yes, stop them"),
    "unsubscribe_done_reporter": (
        "Pemberitahuan lewat {channel} tentang laporan {code} sudah dihentikan. Laporan "
        "tetap ditangani, dan perkembangannya tetap dapat Anda lihat lewat tautan pribadi.",
        "Notifications by {channel} about report {code} have stopped. The report is still "
        "being handled, and you can still follow it through your private link.",
    ),
    "unsubscribe_done_agency": (
        "Alamat e-mail ini tidak akan lagi menerima pemberitahuan untuk {agency}. Laporan "
        "instansi tetap dapat dibaca lewat API instansi.",
        "This e-mail address will no longer get notifications for {agency}. The agency's "
        "reports can still be read through the agency API.",
    ),
    "unsubscribe_unknown": ("Tautan tidak dikenal", "Unknown link"),
    "unsubscribe_unknown_detail": (
        "Tautan untuk berhenti ini tidak sah atau tidak lengkap. Salin seluruh tautan dari "
        "pesan yang Anda terima.",
        "This link to stop notifications is not valid or not complete. Copy the whole "
        "link from the message you got.",
    ),
}

STATE_LABELS: Mapping[str, tuple[str, str]] = {
    "submitted": ("Belum Terverifikasi", "Not yet verified"),
    "on_hold": ("Tertunda", "On hold"),
    "archived": ("Arsip", "Archived"),
    "dispositioned": (
        "Terdisposisi – Belum Ditindaklanjuti",
        "Dispositioned – not yet followed up",
    ),
    "in_progress": ("Terdisposisi – Sedang Diproses", "Dispositioned – in progress"),
    "resolved": ("Selesai (menunggu konfirmasi pelapor)", "Resolved (awaiting the reporter)"),
    "closed": ("Selesai", "Closed"),
}

ACTION_LABELS: Mapping[str, tuple[str, str]] = {
    "submit": ("Laporan dikirim", "Report submitted"),
    # Routing is not verification: event_label says how a disposition was decided.
    "disposition": ("Didisposisikan", "Dispositioned"),
    "queue_for_admin": (
        "Menunggu verifikasi admin untuk diarahkan",
        "Waiting for an administrator to route it",
    ),
    "hold": ("Ditunda, menunggu keterangan pelapor", "On hold, waiting for the reporter"),
    "answer_hold": ("Pelapor melengkapi keterangan", "The reporter answered"),
    "archive": ("Diarsipkan", "Archived"),
    "forward": ("Diteruskan ke unit kerja", "Forwarded to a unit"),
    "not_our_authority": (
        "Bukan wewenang instansi; diarahkan ulang",
        "Not the agency's authority; re-routing",
    ),
    "follow_up": ("Tindak lanjut", "Follow-up"),
    "reporter_reply": ("Tanggapan pelapor", "Reporter's reply"),
    "resolve": ("Dinyatakan selesai", "Declared resolved"),
    "confirm": ("Dikonfirmasi pelapor", "Confirmed by the reporter"),
    "auto_close": ("Ditutup otomatis", "Closed automatically"),
    "reopen": ("Dibuka kembali", "Reopened"),
    "rate": ("Dinilai pelapor", "Rated by the reporter"),
    "escalate": ("Pemberitahuan batas waktu dikirim", "Deadline notice sent"),
    "mark_supervisory": (
        "Ditetapkan sebagai pengaduan berkadar pengawasan",
        "Marked as a complaint needing supervisory investigation",
    ),
    "erase_contact": ("Data kontak pelapor dihapus", "The reporter's contact details erased"),
}

# How a disposition was decided (shared.domain.privacy.routing_of's method): routing by
# rule or classifier is not verification by a person, and the label says so.
ROUTING_LABELS: Mapping[str, tuple[str, str]] = {
    "named": (
        "Didisposisikan ke {agency}, instansi yang dipilih pelapor",
        "Dispositioned to {agency}, the agency the reporter named",
    ),
    "rule": (
        "Didisposisikan otomatis ke {agency} oleh aturan {rule}",
        "Routed automatically to {agency} by rule {rule}",
    ),
    "classifier": (
        "Didisposisikan otomatis ke {agency} oleh pengklasifikasi (keyakinan {confidence})",
        "Routed automatically to {agency} by the classifier (confidence {confidence})",
    ),
    "manual": (
        "Diverifikasi dan didisposisikan ke {agency} oleh admin {admin}",
        "Verified and dispositioned to {agency} by admin {admin}",
    ),
}

_MONTHS: Mapping[Lang, tuple[str, ...]] = {
    "id": (
        "Januari", "Februari", "Maret", "April", "Mei", "Juni",
        "Juli", "Agustus", "September", "Oktober", "November", "Desember",
    ),
    "en": (
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ),
}  # fmt: skip


def _index(lang: Lang) -> int:
    return 0 if lang == "id" else 1


def t(key: str, lang: Lang, **values: object) -> str:
    """The text for ``key`` in ``lang``; a missing key is a bug, so it raises KeyError."""
    text = MESSAGES[key][_index(lang)]
    return text.format(**values) if values else text


def state_label(state: str, lang: Lang) -> str:
    labels = STATE_LABELS.get(state)
    return labels[_index(lang)] if labels else state


def action_label(action: str, lang: Lang) -> str:
    labels = ACTION_LABELS.get(action)
    return labels[_index(lang)] if labels else action


def event_label(
    event: Mapping[str, Any], lang: Lang, name: Callable[[str], str] | None = None
) -> str:
    """The label of a timeline event as privacy.view shows it. A disposition says how
    it was routed (reporter, rule, classifier with its confidence, or which admin);
    ``name`` turns an agency id into the name to show (the id itself by default)."""
    routing = event.get("routing")
    labels = ROUTING_LABELS.get(routing["method"]) if routing else None
    if routing is None or labels is None:
        return action_label(str(event["action"]), lang)
    named = name or (lambda agency: agency)
    confidence = routing.get("confidence")
    return labels[_index(lang)].format(
        agency=named(str(routing.get("agency_id") or "?")),
        rule=routing.get("rule_id") or "?",
        confidence="?" if confidence is None else f"{round(float(confidence) * 100)}%",
        admin=named(str(routing.get("admin_agency_id") or "?")),
    )


def notice_label(notice: Mapping[str, Any], lang: Lang) -> str:
    """How the reporter was told, "Anda diberi tahu lewat e-mail dan SMS": a line of
    their own timeline (shared.usecases.deliveries.reporter_notices), never to where."""
    channels = t("channels_and", lang).join(t(f"channel_{c}", lang) for c in notice["channels"])
    key = "notified_link_by" if notice.get("kind") == "link.resend" else "notified_by"
    return t(key, lang, channels=channels)


def format_date(value: dt.date | str | None, lang: Lang) -> str:
    """``12 Maret 2025`` (Indonesian) or ``12 March 2025``; the same shape in both."""
    if value is None or value == "":
        return ""
    day = dt.date.fromisoformat(value[:10]) if isinstance(value, str) else value
    return f"{day.day} {_MONTHS[lang][day.month - 1]} {day.year}"


def format_datetime(value: str, lang: Lang, timezone: str = "Asia/Jakarta") -> str:
    from zoneinfo import ZoneInfo

    moment = dt.datetime.fromisoformat(value).astimezone(ZoneInfo(timezone))
    zone = {"Asia/Jakarta": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}.get(
        timezone, moment.strftime("%Z")
    )
    return f"{format_date(moment.date(), lang)} {moment:%H.%M} {zone}"


def format_short_date(day: dt.date, lang: Lang) -> str:
    """``3 Agu`` or ``3 Aug``: a chart's axis label."""
    return f"{day.day} {_MONTHS[lang][day.month - 1][:3]}"


def format_number(value: float, lang: Lang, digits: int = 0) -> str:
    """``1.234,5`` in Indonesian, ``1,234.5`` in English."""
    text = f"{value:,.{digits}f}"
    return text.translate(str.maketrans(",.", ".,")) if lang == "id" else text


def format_share(share: float | None, lang: Lang) -> str:
    """A share (0 to 1) as a percentage with one decimal; a dash when there is none."""
    return "—" if share is None else format_number(share * 100, lang, 1) + "%"


def _supported(tag: str) -> Lang | None:
    """The language a tag names by its primary subtag (``id-ID`` is ``id``), if ours."""
    primary = tag.strip().lower().replace("_", "-").split("-")[0]
    if primary == "id":
        return "id"
    if primary == "en":
        return "en"
    return None


def negotiate(request: Request, default: Lang = DEFAULT_LANG) -> Lang:
    """The language of the answer to ``request``: ``?lang=`` wins; else the first
    language of ours in Accept-Language; else ``default``.

    werkzeug parses the header (qualities, garbage, ``*``) and orders it best first.
    Its ``best_match`` is not used because it would prefer an exact ``id;q=0.5`` to a
    regional ``en-GB`` the reader ranked first.
    """
    chosen = _supported(request.args.get("lang") or "")
    if chosen is not None:
        return chosen
    for tag, quality in request.accept_languages:
        chosen = _supported(tag)
        if chosen is not None and quality > 0:
            return chosen
    return default

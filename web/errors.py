"""Every error a person or client sees: a code, a message, a hint and a reference id found in the log."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, replace
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from signing.errors import DomainError, FieldError, ValidationFailed
from web.htmx import is_htmx

__all__ = [
    "ErrorInfo", "field_message", "form_failure", "new_reference", "register_error_handlers", "wants_json",
]

log = logging.getLogger("podpisant.errors")
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


@dataclass(frozen=True)
class ErrorInfo:
    """What we tell a person about one error."""

    code: str
    status: int
    message: str | LazyString
    hint: str | LazyString

    def payload(self, reference: str) -> dict[str, Any]:
        return {
            "error": {
                "code": self.code,
                "message": str(self.message),
                "hint": str(self.hint),
                "reference": reference,
            }
        }


def new_reference() -> str:
    """A short id a person can read out to support; it is also written to the server log."""
    return "R-" + "".join(secrets.choice(_ALPHABET) for _ in range(10))


_ERRORS: dict[str, ErrorInfo] = {
    info.code: info
    for info in (
        ErrorInfo("400", 400, _l("Запрос не понят."), _l("Вернитесь на предыдущую страницу и повторите.")),
        ErrorInfo("401", 401, _l("Нужно войти."), _l("Войдите в личный кабинет и повторите.")),
        ErrorInfo("403", 403, _l("Нет доступа."), _l("Эта страница доступна другому пользователю.")),
        ErrorInfo("404", 404, _l("Страница не найдена."), _l("Проверьте адрес или начните с главной.")),
        ErrorInfo("405", 405, _l("Так обратиться к странице нельзя."), _l("Откройте страницу заново.")),
        ErrorInfo("413", 413, _l("Слишком большой запрос."), _l("Уменьшите файл и повторите.")),
        ErrorInfo("429", 429, _l("Слишком много запросов."), _l("Подождите минуту и повторите.")),
        ErrorInfo("500", 500, _l("Что-то пошло не так на нашей стороне."),
                  _l("Повторите позже; если ошибка останется, сообщите в поддержку номер обращения.")),
        ErrorInfo("503", 503, _l("Сервис временно недоступен."), _l("Повторите через несколько минут.")),
        ErrorInfo("CSRF-FAILED", 400, _l("Форма устарела или отправлена не с нашего сайта."),
                  _l("Обновите страницу и отправьте форму ещё раз.")),
        ErrorInfo("FORM-INVALID", 422, _l("В форме есть ошибки."),
                  _l("Исправьте поля, отмеченные красным, и отправьте форму ещё раз.")),
        ErrorInfo("AUTH-INVALID", 401, _l("Неверный логин или пароль."),
                  _l("Проверьте адрес почты или телефон и пароль, раскладку и Caps Lock.")),
        ErrorInfo("AUTH-REQUIRED", 401, _l("Нужно войти."), _l("Войдите в личный кабинет и повторите.")),
        ErrorInfo("AUTH-SESSION-EXPIRED", 401, _l("Сессия завершена."),
                  _l("Сеанс закрыт после 30 минут бездействия или выхода. Войдите снова.")),
        ErrorInfo("AUTH-UNCONFIRMED", 403, _l("Адрес почты ещё не подтверждён."),
                  _l("Введите код из письма или запросите новый.")),
        ErrorInfo("CODE-INVALID", 422, _l("Код не подходит."), _l("Проверьте цифры в последнем письме.")),
        ErrorInfo("CODE-EXPIRED", 422, _l("Срок действия кода истёк."),
                  _l("Нажмите «Отправить код ещё раз» и введите новый код.")),
        ErrorInfo("CODE-ATTEMPTS", 422, _l("Слишком много неверных попыток."),
                  _l("Этот код больше не действует: запросите новый.")),
        ErrorInfo("CODE-COOLDOWN", 429, _l("Код уже отправлен."),
                  _l("Новый код можно запросить через несколько секунд; проверьте папку «Спам».")),
        ErrorInfo("MAIL-UNAVAILABLE", 503, _l("Не удалось отправить письмо."),
                  _l("Почтовый сервер не ответил. Ничего не сохранено: повторите через минуту.")),
        ErrorInfo("PDF-INVALID", 422, _l("Этот PDF нельзя принять."),
                  _l("Сохраните документ в PDF заново и загрузите ещё раз.")),
        ErrorInfo("PDF-NOT-PDF", 422, _l("Файл не является PDF."),
                  _l("Загрузите документ в формате PDF.")),
        ErrorInfo("PDF-ENCRYPTED", 422, _l("PDF защищён паролем."),
                  _l("Снимите пароль и ограничения в программе, где создан файл, и загрузите его снова.")),
        ErrorInfo("PDF-CORRUPT", 422, _l("PDF повреждён или обрезан."),
                  _l("Откройте файл на своём компьютере, сохраните его в PDF заново и загрузите ещё раз.")),
        ErrorInfo("PDF-TOO-LARGE", 413, _l("Файл слишком большой."),
                  _l("Допустимо до 5 МБ: сожмите изображения или разделите документ.")),
        ErrorInfo("PDF-TOO-MANY-PAGES", 422, _l("В документе слишком много страниц."),
                  _l("Допустимо до 500 страниц: разделите документ на части.")),
        ErrorInfo("PDF-TIMEOUT", 422, _l("Файл обрабатывается слишком долго."),
                  _l("Сохраните документ в PDF заново (лучше «PDF/A») и загрузите ещё раз.")),
        ErrorInfo("SIGN-FAILED", 500, _l("Подпись не удалось поставить."),
                  _l("Документ не изменён. Повторите; если ошибка останется, сообщите в поддержку номер обращения.")),
        ErrorInfo("CERT-REVOKED", 409, _l("Сертификат подписи отозван."),
                  _l("Подпишите снова: сервис выпустит вам новый сертификат.")),
        ErrorInfo("CERT-NOT-VALID", 409, _l("Сертификат подписи недействителен на эту дату."),
                  _l("Подпишите снова: сервис выпустит вам новый сертификат.")),
        ErrorInfo("SIGN-FIELD-MISSING", 409, _l("В документе нет места для вашей подписи."),
                  _l("Документ изменился; откройте его заново по ссылке из письма.")),
        ErrorInfo("SIGN-FIELD-SIGNED", 409, _l("Вы уже подписали этот документ."),
                  _l("Повторно подписывать не нужно: подпись сохранена.")),
        ErrorInfo("SIGN-PREPARATION-BUSY", 409, _l("Подпись этого документа уже готовится."),
                  _l("Подождите несколько секунд и повторите.")),
        ErrorInfo("SIGN-STALE", 409, _l("Документ изменился, пока вы подписывали."),
                  _l("Откройте документ заново и подпишите текущую версию.")),
        ErrorInfo("SIGN-BAD-SIGNATURE", 422, _l("Подпись не сходится с документом и сертификатом."),
                  _l("Повторите подписание в этом же браузере.")),
        ErrorInfo("TSA-UNAVAILABLE", 503, _l("Служба штампов времени не ответила."),
                  _l("Документ не изменён. Повторите через минуту.")),
        ErrorInfo("KEY-UNAVAILABLE", 500, _l("Ключ подписи недоступен."),
                  _l("Сообщите в поддержку номер обращения; документ не изменён.")),
        ErrorInfo("DOC-NOT-FOUND", 404, _l("Документ не найден."),
                  _l("Проверьте ссылку или откройте документ из списка «Мои документы».")),
        ErrorInfo("DOC-NOT-EDITABLE", 409, _l("Этот документ уже нельзя изменить так."),
                  _l("Черновик меняется до отправки на подпись; обновите страницу, чтобы увидеть его состояние.")),
        ErrorInfo("ATTACHMENT-INVALID", 422, _l("Вложение не принято."),
                  _l("Приложите PDF или JPG до 5 МБ, без пароля.")),
        ErrorInfo("LAYOUT-INVALID", 422, _l("Лист подписей не получается составить."),
                  _l("Проверьте список подписантов: у каждого должно быть имя, без повторов.")),
        # the signature round (signing.rounds, signing.invitations)
        ErrorInfo("INVITE-INVALID", 404, _l("Ссылка больше не действует."),
                  _l("Документ подписан, изменён или отозван. Откройте ссылку из последнего письма о нём.")),
        ErrorInfo("INVITE-EXPIRED", 410, _l("Срок подписания истёк."),
                  _l("Попросите отправителя документа прислать его заново.")),
        ErrorInfo("REVISION-STALE", 409, _l("Документ изменили, пока вы его читали."),
                  _l("Подпись не поставлена. Откройте новую редакцию по ссылке из письма и подпишите её.")),
        ErrorInfo("ROUND-CLOSED", 409, _l("Документ уже не на подписании."),
                  _l("Его подписали, отклонили или отозвали; обновите страницу, чтобы увидеть состояние.")),
        ErrorInfo("ROUND-NOT-YOUR-TURN", 409, _l("Ваша очередь подписывать ещё не подошла."),
                  _l("Документ подписывают по порядку: мы пришлём письмо, когда подпишет предыдущий участник.")),
        ErrorInfo("ROUND-DEADLINE-PASSED", 409, _l("Срок подписания истёк."),
                  _l("Попросите отправителя документа прислать его заново.")),
        ErrorInfo("ROUND-ALREADY-SIGNED", 409, _l("Вы уже подписали этот документ."),
                  _l("Отказаться после подписания нельзя; напишите отправителю, если что-то не так.")),
        ErrorInfo("GUEST-SESSION-EXPIRED", 401, _l("Сеанс работы с документом завершён."),
                  _l("Он закрывается после 30 минут бездействия. Откройте ссылку из письма ещё раз.")),
        ErrorInfo("REMIND-COOLDOWN", 429, _l("Напоминание уже отправлено."),
                  _l("Следующее можно отправить через час после предыдущего письма.")),
        # monthly subscriptions (signing.subscriptions, web/subscriptions.py)
        ErrorInfo("SUB-NOT-FOUND", 404, _l("Подписка не найдена."),
                  _l("Откройте её из списка «Подписки».")),
        ErrorInfo("SUB-NOT-CHANGEABLE", 409, _l("Подписку уже нельзя изменить так."),
                  _l("Отменённая подписка остаётся отменённой; обновите страницу, чтобы увидеть её состояние.")),
        ErrorInfo("SUB-NOT-REPEATABLE", 409, _l("Этот документ нельзя повторять ежемесячно."),
                  _l("Ежемесячно повторяются акты и счета-фактуры, составленные по форме в сервисе.")),
        ErrorInfo("QUEUE-UNAVAILABLE", 503, _l("Очередь задач сейчас недоступна."),
                  _l("Ничего не изменилось: повторите через минуту. Ежедневная проверка тоже выпустит пропущенное.")),
        # password recovery, request limits and the login lock (signing.recovery, signing.lockout, web.limits)
        ErrorInfo("RATE-LIMITED", 429, _l("Слишком много попыток подряд."),
                  _l("Повторите после %(at)s (через %(minutes)s мин.). Это защита от подбора пароля и кодов.")),
        ErrorInfo("AUTH-LOCKED", 423, _l("Вход временно закрыт до %(until)s."),
                  _l("После %(attempts)s неверных паролей подряд вход закрыт на %(minutes)s мин. Чтобы войти сейчас, "
                     "восстановите пароль по ссылке «Забыли пароль?»: новый пароль снимет блокировку.")),
        ErrorInfo("AUTH-RESET-REQUIRED", 403, _l("Нужно задать новый пароль."),
                  _l("Вход по прежнему паролю закрыт. Нажмите «Забыли пароль?», получите код на почту "
                     "и задайте новый пароль.")),
        # two-factor authentication, sessions, login history (signing.two_factor, signing.logins)
        ErrorInfo("TOTP-INVALID", 422, _l("Код не подходит."),
                  _l("Введите 6 цифр, которые сейчас показывает приложение: код меняется каждые 30 секунд.")),
        ErrorInfo("TOTP-USED", 422, _l("Этот код уже использован."),
                  _l("Каждый код подходит один раз: дождитесь следующего кода в приложении.")),
        ErrorInfo("TOTP-LOCKED", 429, _l("Слишком много неверных кодов."),
                  _l("Ввод кодов приостановлен на 15 минут. Проверьте время на телефоне и повторите позже.")),
        ErrorInfo("TOTP-STATE", 409, _l("Двухфакторная защита уже в другом состоянии."),
                  _l("Обновите страницу «Безопасность», чтобы увидеть, включена ли она.")),
        ErrorInfo("LOGIN-CODE-EXPIRED", 401, _l("Время на ввод кода вышло."),
                  _l("Войдите заново: введите пароль, затем код из приложения.")),
        ErrorInfo("SESSION-NOT-FOUND", 404, _l("Сеанс не найден."),
                  _l("Обновите страницу «Безопасность»: список сеансов мог измениться.")),
        ErrorInfo("LOGIN-EVENT-NOT-FOUND", 404, _l("Запись не найдена."),
                  _l("Обновите страницу «Безопасность» и выберите запись из истории входов.")),
        # profile and feedback tickets (signing.profile, signing.feedback)
        ErrorInfo("TICKET-NOT-FOUND", 404, _l("Обращение не найдено."),
                  _l("Откройте его из списка в разделе «Обратная связь».")),
        ErrorInfo("TICKET-CLOSED", 409, _l("Обращение закрыто."),
                  _l("В закрытое обращение ничего не добавить: напишите новое.")),
        ErrorInfo("STAFF-ONLY", 403, _l("Эта страница только для поддержки."),
                  _l("Свои обращения вы найдёте в разделе «Обратная связь».")),
    )
}

FIELD_MESSAGES: dict[str, str | LazyString] = {
    "EMAIL-INVALID": _l("Адрес почты записан с ошибкой: нужен вид name@example.ru."),
    "EMAIL-TAKEN": _l("Этот адрес уже зарегистрирован. Войдите или восстановите пароль."),
    "PHONE-INVALID": _l("Телефон нужен в виде +7 и 10 цифр, например +7 999 123-45-67."),
    "PHONE-TAKEN": _l("Этот телефон уже привязан к другой учётной записи."),
    "NAME-INVALID": _l("Укажите фамилию, имя и отчество (если есть) буквами, через пробел."),
    "PASSWORD-SHORT": _l("Пароль короче 10 символов."),
    "PASSWORD-LONG": _l("Пароль длиннее 256 символов."),
    "PASSWORD-WEAK": _l("Пароль легко угадать. Возьмите фразу из нескольких слов, не связанную с вашими данными."),
    "PASSWORD-MISMATCH": _l("Пароли не совпадают."),
    "CONSENT-REQUIRED": _l("Без согласия на обработку персональных данных регистрация невозможна."),
    "REQUIRED": _l("Заполните это поле."),
    # drafting (signing.drafting): a code, or "CODE:reason" where the reason changes what to tell
    "KIND-INVALID": _l("Выберите вид документа из списка."),
    "NUMBER-INVALID": _l("Номер: буквы, цифры, «-», «/», «.», «_» и пробелы, до 40 знаков, например А-12/2026."),
    "DATE-FORMAT": _l("Дата нужна в виде ДД.ММ.ГГГГ, например 30.11.2026."),
    "TEXT-INVALID": _l("Здесь нужен обычный текст."),
    "TOO-LONG": _l("Слишком длинно: не больше %(max_length)s знаков."),
    "NOT-APPLICABLE": _l("Для этого вида документа это поле не заполняется."),
    "INN-INVALID": _l("ИНН записан с ошибкой."),
    "INN-INVALID:length": _l("ИНН — 10 цифр у организации или 12 цифр у ИП и физического лица."),
    "INN-INVALID:checksum": _l("В ИНН ошибка: не сходится контрольная цифра. Сверьте цифры с документами."),
    "KPP-INVALID": _l("КПП — 9 знаков: 4 цифры, 2 цифры или заглавные латинские буквы, 3 цифры."),
    "KPP-NOT-APPLICABLE": _l("КПП бывает только у организации (ИНН из 10 цифр): оставьте поле пустым."),
    "OGRN-INVALID": _l("ОГРН записан с ошибкой."),
    "OGRN-INVALID:length": _l("ОГРН — 13 цифр у организации, ОГРНИП — 15 цифр у ИП."),
    "OGRN-INVALID:checksum": _l("В ОГРН ошибка: не сходится контрольная цифра. Сверьте цифры с выпиской."),
    "OGRN-MISMATCH": _l("ОГРН не подходит к ИНН: у организации 13 цифр, у ИП (ОГРНИП) 15 цифр."),
    "ITEMS-INVALID": _l("Строки документа не прочитаны: заполните таблицу заново."),
    "ITEM-INVALID": _l("Строка не прочитана: заполните её заново."),
    "ITEMS-TOO-MANY": _l("Слишком много строк: не больше %(max_items)s."),
    "TOTAL-TOO-LARGE": _l("Сумма документа слишком велика."),
    "QUANTITY-INVALID": _l("Количество — положительное число, до трёх знаков после запятой, например 1,5."),
    "PRICE-INVALID": _l("Цена — число рублей с копейками, не отрицательное, например 1 500,00."),
    "WEIGHT-INVALID": _l("Вес — положительное число килограммов, до трёх знаков после запятой."),
    "VAT-RATE-INVALID": _l("Выберите ставку НДС из списка."),
    "VAT-RATE-INVALID:replaced-by-22": _l("С 01.01.2026 общая ставка НДС — 22 процента, а не 20."),
    "VAT-RATE-INVALID:not-yet-in-force": _l("Эта ставка НДС ещё не действовала на дату документа."),
    "PERIOD-FORMAT": _l("Дата периода нужна в виде ДД.ММ.ГГГГ, например 01.11.2026."),
    "PERIOD-END-BEFORE-START": _l("Конец периода раньше его начала."),
    "PERIOD-TOO-LONG": _l("Период — не больше календарного месяца: при этом начале конец не позже %(latest_end)s."),
    "PERIOD-IN-FUTURE": _l("Период ещё не закончился: конец не может быть позже сегодняшнего дня (%(today)s)."),
    "PERIOD-OVERLAP": _l("Между этими сторонами уже есть документ № %(number)s от %(date)s (%(period)s)."),
    "DRAFT-CORRUPT": _l("Сохранённый черновик повреждён: заполните форму заново."),
    "CHOICE-INVALID": _l("Выберите значение из списка."),
    # the signature round (signing.rounds)
    "SIGNATORIES-REQUIRED": _l("Добавьте хотя бы одного подписанта."),
    "SIGNATORIES-TOO-MANY": _l("Слишком много подписантов: не больше %(limit)s."),
    "SIGNATORY-DUPLICATE": _l("Этот адрес уже есть в списке подписантов."),
    "DEADLINE-FORMAT": _l("Срок нужен в виде ДД.ММ.ГГГГ ЧЧ:ММ по Москве, например 30.11.2026 18:00."),
    "DEADLINE-PAST": _l("Срок подписания должен быть позже текущего момента."),
    "ORDER-INVALID": _l("Выберите порядок подписания: одновременно или по очереди."),
    "CODE-REQUIRED": _l("Введите код из письма."),
    "CODE-PURPOSE-INVALID": _l("Код запрошен не для того действия: обновите страницу."),
    "DECLINE-REASON-REQUIRED": _l("Напишите причину отказа: её увидят все участники."),
    "DECLINE-REASON-TOO-LONG": _l("Причина слишком длинная: не больше %(limit)s знаков."),
    # supporting files (signing.documents.add_attachment)
    "ATTACHMENT-INVALID:type": _l("Приложить можно только PDF или JPG."),
    "ATTACHMENT-INVALID:size": _l("Файл больше 5 МБ: уменьшите его или разделите на части."),
    "ATTACHMENT-INVALID:corrupt": _l("Файл повреждён или не читается целиком."),
    "ATTACHMENT-INVALID:encrypted": _l("PDF защищён паролем: приложите его без пароля."),
    # monthly subscriptions (signing.subscriptions.SubscriptionTerms, web/subscription_form.py)
    "PATTERN-INVALID": _l("Шаблон номера: текст и поля {n} (счётчик, можно {n:03}), {yyyy} (год), {mm} (месяц); "
                          "в номере — буквы, цифры, «-», «/», «.», «_» и пробелы."),
    "PATTERN-WITHOUT-COUNTER": _l("В шаблоне номера нужен счётчик {n}: иначе у документов будут одинаковые номера."),
    "ISSUE-DAY-RANGE": _l("День выпуска — число от %(minimum)s до %(maximum)s."),
    "NUMBER-RANGE": _l("Первый номер — целое число от 1."),
    "NOTICE-DAYS-RANGE": _l("Напоминание — за 0–14 дней до выпуска (0 — не напоминать)."),
    "MONTH-FORMAT": _l("Месяц нужен в виде ММ.ГГГГ, например 12.2026."),
    "LAST-MONTH-BEFORE-FIRST": _l("Последний месяц раньше первого."),
    "KIND-NOT-PERIODIC": _l("Ежемесячно повторяются только акты и счета-фактуры."),
    "NOT-FROM-FORM": _l("Повторять можно только документ, составленный по форме в сервисе."),
    "SUBSCRIPTION-EXISTS": _l("С «%(buyer)s» такая подписка уже есть (№ %(id)s) и выпускает документы за эти месяцы. "
                              "Измените её на странице «Подписки» или начните с месяца после её последнего."),
    # two-factor authentication (signing.two_factor.disable)
    "PASSWORD-WRONG": _l("Пароль не подходит."),
    "TOTP-REQUIRED": _l("Введите 6 цифр из приложения-аутентификатора."),
    # profile and feedback tickets (signing.profile, signing.personal_ids, signing.feedback)
    "INN-INVALID:person-length": _l("ИНН физического лица — 12 цифр."),
    "SNILS-INVALID": _l("СНИЛС записан с ошибкой."),
    "SNILS-INVALID:length": _l("СНИЛС — 11 цифр, например 123-456-789 64."),
    "SNILS-INVALID:checksum": _l("В СНИЛС ошибка: не сходятся две последние цифры. Сверьте номер с документом."),
    "EMAIL-SAME": _l("Это и есть ваш текущий адрес."),
    "PHONE-SAME": _l("Это и есть ваш текущий телефон."),
    "REFERENCE-INVALID": _l("Номер ошибки выглядит так: R- и 10 знаков, например R-7K2M9QX4PA. Можно оставить пустым."),
    "SCREENSHOT-INVALID": _l("Снимок экрана не принят."),
    "SCREENSHOT-INVALID:type": _l("Приложить можно только картинку PNG или JPG."),
    "SCREENSHOT-INVALID:size": _l("Снимок больше %(limit_mb)s МБ: уменьшите его или сохраните в JPG."),
    "SCREENSHOT-INVALID:corrupt": _l("Картинка повреждена или не читается целиком."),
}


def info_for(code: str, **params: object) -> ErrorInfo:
    """The words for `code`; `params` fill the %(name)s places of its message and hint."""
    info = _ERRORS.get(code) or _ERRORS["500"]
    if not params:
        return info
    return replace(info, message=str(info.message) % params, hint=str(info.hint) % params)


def form_failure(code: str, **params: object) -> tuple[ErrorInfo, str]:
    """An error shown inside a form (not as an error page), logged with its reference like any other."""
    info, reference = info_for(code, **params), new_reference()
    log.info("form error code=%s status=%s ref=%s %s %s", code, info.status, reference, request.method, request.path)
    return info, reference


def field_message(error: FieldError) -> str:
    """The words for one field's error: the reason's own text when there is one, its parameters filled in."""
    reason = error.params.get("reason")
    text = str(FIELD_MESSAGES.get(f"{error.code}:{reason}") or FIELD_MESSAGES.get(error.code, error.code))
    if not error.params:
        return text
    try:
        return text % error.params
    except (KeyError, ValueError, TypeError):
        return text


def wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def error_response(info: ErrorInfo, reference: str | None = None) -> Response:
    """Render one error as JSON, an htmx fragment or a full page, with the same four fields."""
    reference = reference or new_reference()
    if wants_json():
        response = jsonify(info.payload(reference))
    else:
        template = "errors/_error.html" if is_htmx() else "errors/page.html"
        response = Response(render_template(template, error=info, reference=reference))
    response.status_code = info.status
    return response


def _log(info: ErrorInfo, reference: str, level: int = logging.WARNING) -> None:
    log.log(level, "error code=%s status=%s ref=%s %s %s", info.code, info.status, reference,
            request.method, request.path)


def handle_http(exc: HTTPException) -> Response:
    info = info_for(str(exc.code)) if str(exc.code) in _ERRORS else ErrorInfo(
        str(exc.code), exc.code or 500, exc.name, _l("Вернитесь на предыдущую страницу и повторите.")
    )
    reference = new_reference()
    _log(info, reference, logging.INFO if (exc.code or 500) < 500 else logging.ERROR)
    return error_response(info, reference)


def handle_csrf(_exc: CSRFError) -> Response:
    info = _ERRORS["CSRF-FAILED"]
    reference = new_reference()
    _log(info, reference)
    return error_response(info, reference)


def handle_domain(exc: DomainError) -> Response:
    info = info_for(exc.code) if not isinstance(exc, ValidationFailed) else _ERRORS["FORM-INVALID"]
    reference = new_reference()
    _log(info, reference)
    return error_response(info, reference)


def handle_unexpected(exc: Exception) -> Response:
    if isinstance(exc, HTTPException):
        return handle_http(exc)
    reference = new_reference()
    log.exception("unhandled error ref=%s %s %s", reference, request.method, request.path)
    return error_response(_ERRORS["500"], reference)


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(CSRFError, handle_csrf)
    app.register_error_handler(HTTPException, handle_http)
    app.register_error_handler(DomainError, handle_domain)
    app.register_error_handler(Exception, handle_unexpected)

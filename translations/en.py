"""English for every Russian message id: regenerate translations/en/LC_MESSAGES/messages.po with
`python translations/en.py` after `pybabel extract` (tests fail when an id has no English)."""

EN = {
    "Включён Caps Lock": "Caps Lock is on",
    "Код": "Code",
    "Номер обращения": "Reference",
    "Подписант": "Podpisant",
    "Главное меню": "Main menu",
    "Мои документы": "My documents",
    "Состояние сервиса": "Service status",
    "Выйти": "Log out",
    "Войти": "Log in",
    "Регистрация": "Sign up",
    "электронное подписание документов": "electronic document signing",
    "Электронное подписание документов": "Electronic document signing",
    "Подписывайте акты и договоры онлайн": "Sign acts and contracts online",
    "Каждая сторона подписывает своей электронной подписью, документ остаётся проверяемым годами, а ежемесячные акты выпускаются сами.":
        "Every party signs with its own electronic signature, documents stay verifiable for years, and monthly acts issue themselves.",
    "Зарегистрироваться": "Sign up",
    "Отправить код ещё раз": "Send the code again",
    "через": "in",
    "с": "s",
    "Письма нет? Проверьте папку «Спам» и адрес %(email)s.": "No email? Check your spam folder and the address %(email)s.",
    "Подтверждение почты": "Email confirmation",
    "Подтвердите адрес почты": "Confirm your email address",
    "Мы отправили 6-значный код на %(email)s. Код действует 10 минут.":
        "We sent a 6-digit code to %(email)s. The code is valid for 10 minutes.",
    "Подтвердить": "Confirm",
    "Вход": "Log in",
    "Вход в личный кабинет": "Log in to your account",
    "Адрес почты или телефон +7…": "Email address or phone +7…",
    "Нет учётной записи?": "No account yet?",
    "Как в паспорте: Иванов Иван Иванович": "As in your passport: Ivanov Ivan Ivanovich",
    "На этот адрес придёт код подтверждения": "The confirmation code will be sent to this address",
    "+7 и 10 цифр": "+7 and 10 digits",
    "Не короче 10 символов; лучше фраза из нескольких слов": "At least 10 characters; a phrase of several words is best",
    "Я даю согласие на обработку моих персональных данных (ФИО, почта, телефон) для регистрации и подписания документов в соответствии с 152-ФЗ «О персональных данных».":
        "I consent to the processing of my personal data (full name, email, phone) for registration and document signing under Federal Law 152-FZ “On Personal Data”.",
    "Уже есть учётная запись?": "Already have an account?",
    "Документов пока нет.": "No documents yet.",
    "Личный кабинет": "My account",
    "ФИО": "Full name",
    "Почта": "Email",
    "Телефон": "Phone",
    "Зарегистрирован": "Registered",
    "Исходящая почта (разработка)": "Outgoing mail (development)",
    "Исходящая почта": "Outgoing mail",
    "Только в режиме разработки: письма, которые ушли бы по SMTP. Новые сверху.":
        "Development mode only: the messages that would have gone out over SMTP. Newest first.",
    "Задан SMTP_URL: письма уходят на сервер и здесь не появляются.":
        "SMTP_URL is set: mail goes to the server and does not appear here.",
    "Кому": "To",
    "Писем нет.": "No messages.",
    "Ошибка": "Error",
    "На главную": "Home",
    "База данных": "Database",
    "Redis": "Redis",
    "Фоновые задачи": "Background jobs",
    "Планировщик": "Scheduler",
    "Очередь": "Queue",
    "Всё работает": "All systems working",
    "Работает с ограничениями": "Working with limitations",
    "в порядке": "OK",
    "недоступно": "unavailable",
    "активность": "last seen",
    "последний такт": "last tick",
    "заданий в очереди": "jobs queued",
    "Здравствуйте, %(name)s!\n\nКод подтверждения адреса в Подписанте: %(code)s\nОн действует %(minutes)s минут и подходит один раз.\n\nЕсли вы не регистрировались в Подписанте, просто удалите это письмо.":
        "Hello, %(name)s!\n\nYour Podpisant email confirmation code: %(code)s\nIt is valid for %(minutes)s minutes and can be used once.\n\nIf you did not sign up for Podpisant, simply delete this message.",
    "Код подтверждения: %(code)s": "Confirmation code: %(code)s",
    "Код не подходит. Осталось попыток: %(n)s.": "Wrong code. Attempts left: %(n)s.",
    "Адрес подтверждён. Добро пожаловать!": "Address confirmed. Welcome!",
    "Введите 6 цифр из письма.": "Enter the 6 digits from the email.",
    "Новый код отправлен на %(email)s. Прежний код больше не действует.":
        "A new code was sent to %(email)s. The previous code no longer works.",
    "Подтвердите адрес почты: мы отправили код на %(email)s.": "Confirm your email address: we sent a code to %(email)s.",
    "Вы вышли из кабинета.": "You have logged out.",
    "Запрос не понят.": "The request could not be understood.",
    "Вернитесь на предыдущую страницу и повторите.": "Go back to the previous page and try again.",
    "Нужно войти.": "Please log in.",
    "Войдите в личный кабинет и повторите.": "Log in to your account and try again.",
    "Нет доступа.": "Access denied.",
    "Эта страница доступна другому пользователю.": "This page belongs to another user.",
    "Страница не найдена.": "Page not found.",
    "Проверьте адрес или начните с главной.": "Check the address or start from the home page.",
    "Так обратиться к странице нельзя.": "This page cannot be requested this way.",
    "Откройте страницу заново.": "Open the page again.",
    "Слишком большой запрос.": "The request is too large.",
    "Уменьшите файл и повторите.": "Make the file smaller and try again.",
    "Слишком много запросов.": "Too many requests.",
    "Подождите минуту и повторите.": "Wait a minute and try again.",
    "Что-то пошло не так на нашей стороне.": "Something went wrong on our side.",
    "Повторите позже; если ошибка останется, сообщите в поддержку номер обращения.":
        "Try again later; if the error persists, give support the reference.",
    "Сервис временно недоступен.": "The service is temporarily unavailable.",
    "Повторите через несколько минут.": "Try again in a few minutes.",
    "Форма устарела или отправлена не с нашего сайта.": "The form has expired or was not sent from our site.",
    "Обновите страницу и отправьте форму ещё раз.": "Reload the page and submit the form again.",
    "В форме есть ошибки.": "The form has errors.",
    "Исправьте поля, отмеченные красным, и отправьте форму ещё раз.": "Correct the fields marked in red and submit again.",
    "Неверный логин или пароль.": "Wrong login or password.",
    "Проверьте адрес почты или телефон и пароль, раскладку и Caps Lock.":
        "Check the email or phone and the password, the keyboard layout and Caps Lock.",
    "Сессия завершена.": "Your session has ended.",
    "Сеанс закрыт после 30 минут бездействия или выхода. Войдите снова.":
        "The session was closed after 30 minutes of inactivity or a logout. Log in again.",
    "Адрес почты ещё не подтверждён.": "The email address is not confirmed yet.",
    "Введите код из письма или запросите новый.": "Enter the code from the email or request a new one.",
    "Код не подходит.": "Wrong code.",
    "Проверьте цифры в последнем письме.": "Check the digits in the latest email.",
    "Срок действия кода истёк.": "The code has expired.",
    "Нажмите «Отправить код ещё раз» и введите новый код.": "Press “Send the code again” and enter the new code.",
    "Слишком много неверных попыток.": "Too many wrong attempts.",
    "Этот код больше не действует: запросите новый.": "This code no longer works: request a new one.",
    "Код уже отправлен.": "A code was just sent.",
    "Новый код можно запросить через несколько секунд; проверьте папку «Спам».":
        "You can request a new code in a few seconds; check your spam folder.",
    "Не удалось отправить письмо.": "The email could not be sent.",
    "Почтовый сервер не ответил. Ничего не сохранено: повторите через минуту.":
        "The mail server did not answer. Nothing was saved: try again in a minute.",
    "Адрес почты записан с ошибкой: нужен вид name@example.ru.": "The email address is malformed: it should look like name@example.com.",
    "Этот адрес уже зарегистрирован. Войдите или восстановите пароль.":
        "This address is already registered. Log in or reset your password.",
    "Телефон нужен в виде +7 и 10 цифр, например +7 999 123-45-67.": "The phone must be +7 and 10 digits, e.g. +7 999 123-45-67.",
    "Этот телефон уже привязан к другой учётной записи.": "This phone is already linked to another account.",
    "Укажите фамилию, имя и отчество (если есть) буквами, через пробел.":
        "Enter your surname, first name and patronymic (if any) in letters, separated by spaces.",
    "Пароль короче 10 символов.": "The password is shorter than 10 characters.",
    "Пароль длиннее 256 символов.": "The password is longer than 256 characters.",
    "Пароль легко угадать. Возьмите фразу из нескольких слов, не связанную с вашими данными.":
        "The password is easy to guess. Use a phrase of several words unrelated to your personal data.",
    "Пароли не совпадают.": "The passwords do not match.",
    "Без согласия на обработку персональных данных регистрация невозможна.":
        "Registration is not possible without consent to personal data processing.",
    "Заполните это поле.": "Fill in this field.",
    "Фамилия, имя, отчество": "Full name (surname, first name, patronymic)",
    "Электронная почта": "Email",
    "Пароль": "Password",
    "Пароль ещё раз": "Repeat the password",
    "Согласен на обработку персональных данных": "I consent to personal data processing",
    "Почта или телефон": "Email or phone",
    "Код из письма": "Code from the email",
    "Этот PDF нельзя принять.": "This PDF cannot be accepted.",
    "Сохраните документ в PDF заново и загрузите ещё раз.": "Save the document as PDF again and upload it once more.",
    "Файл не является PDF.": "The file is not a PDF.",
    "Загрузите документ в формате PDF.": "Upload the document as a PDF.",
    "PDF защищён паролем.": "The PDF is password-protected.",
    "Снимите пароль и ограничения в программе, где создан файл, и загрузите его снова.": "Remove the password and restrictions in the program that made the file, then upload it again.",
    "PDF повреждён или обрезан.": "The PDF is damaged or truncated.",
    "Откройте файл на своём компьютере, сохраните его в PDF заново и загрузите ещё раз.": "Open the file on your computer, save it as PDF again and upload it once more.",
    "Файл слишком большой.": "The file is too large.",
    "Допустимо до 5 МБ: сожмите изображения или разделите документ.": "Up to 5 MB is allowed: compress images or split the document.",
    "В документе слишком много страниц.": "The document has too many pages.",
    "Допустимо до 500 страниц: разделите документ на части.": "Up to 500 pages are allowed: split the document into parts.",
    "Файл обрабатывается слишком долго.": "Processing the file takes too long.",
    "Сохраните документ в PDF заново (лучше «PDF/A») и загрузите ещё раз.": "Save the document as PDF again (preferably PDF/A) and upload it once more.",
    "Подпись не удалось поставить.": "The signature could not be applied.",
    "Документ не изменён. Повторите; если ошибка останется, сообщите в поддержку номер обращения.": "The document is unchanged. Try again; if it persists, send the reference to support.",
    "Сертификат подписи отозван.": "The signing certificate is revoked.",
    "Подпишите снова: сервис выпустит вам новый сертификат.": "Sign again: the service will issue you a new certificate.",
    "Сертификат подписи недействителен на эту дату.": "The signing certificate is not valid at this date.",
    "В документе нет места для вашей подписи.": "The document has no place for your signature.",
    "Документ изменился; откройте его заново по ссылке из письма.": "The document changed; open it again from the link in the email.",
    "Вы уже подписали этот документ.": "You have already signed this document.",
    "Повторно подписывать не нужно: подпись сохранена.": "No need to sign again: your signature is saved.",
    "Подпись этого документа уже готовится.": "A signature for this document is being prepared.",
    "Подождите несколько секунд и повторите.": "Wait a few seconds and try again.",
    "Документ изменился, пока вы подписывали.": "The document changed while you were signing.",
    "Откройте документ заново и подпишите текущую версию.": "Open the document again and sign the current version.",
    "Подпись не сходится с документом и сертификатом.": "The signature does not match the document and certificate.",
    "Повторите подписание в этом же браузере.": "Sign again in the same browser.",
    "Служба штампов времени не ответила.": "The timestamp service did not answer.",
    "Документ не изменён. Повторите через минуту.": "The document is unchanged. Try again in a minute.",
    "Ключ подписи недоступен.": "The signing key is unavailable.",
    "Сообщите в поддержку номер обращения; документ не изменён.": "Send the reference to support; the document is unchanged.",
    "Лист подписей не получается составить.": "The signature page cannot be laid out.",
    "Проверьте список подписантов: у каждого должно быть имя, без повторов.": "Check the signatories: each needs a name, without repeats.",
}


def write_po() -> None:
    from pathlib import Path

    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po, write_po

    here = Path(__file__).parent
    template = read_po((here / "messages.pot").open("rb"))
    catalog = Catalog(locale="en", project="Podpisant", fuzzy=False)
    for message in template:
        if message.id:
            catalog.add(message.id, EN.get(str(message.id), ""))
    target = here / "en" / "LC_MESSAGES" / "messages.po"
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as out:
        write_po(out, catalog, omit_header=False, no_location=True, width=0)


if __name__ == "__main__":
    write_po()
